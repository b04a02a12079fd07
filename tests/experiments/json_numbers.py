"""What the summary tests share: every number in a results document, so a
number a summary prints can be traced to the JSON it was written from."""


def numbers_in(doc):
    """Every int and float in a JSON document (dicts and lists walked; bools are not numbers)."""
    if isinstance(doc, dict):
        for v in doc.values():
            yield from numbers_in(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from numbers_in(v)
    elif isinstance(doc, (int, float)) and not isinstance(doc, bool):
        yield doc
