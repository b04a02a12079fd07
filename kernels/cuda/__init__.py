"""CUDA kernels written with ``numba.cuda``: batch, layer and group
normalization, forward and backward, float32 and float64. They run on an NVIDIA
GPU over CuPy arrays, or in Numba's CUDA simulator over NumPy arrays
(``NUMBA_ENABLE_CUDASIM=1``). ``python -m kernels.cuda.compile_check`` compiles
every one for sm_80 and sm_90 without a GPU."""
