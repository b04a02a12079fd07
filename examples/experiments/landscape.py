"""The landscape experiment, as `tinygrad-bn experiment landscape`: a verdict table, PNG
plots and a JSON of every number (flags: --out DIR --seeds N --epochs N --quick)."""
import sys

from tinygrad_bn.experiments import main

if __name__ == "__main__":
    sys.exit(main(["landscape", *sys.argv[1:]]))
