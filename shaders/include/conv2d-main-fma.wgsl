// conv2d main, one tap: the register block update, quad q += x{t}·wq{q} for the 4 columns t.
#include "conv2d-fma-quad.wgsl" Q=0 W=wq0
#if ${OB8}
#include "conv2d-fma-quad.wgsl" Q=1 W=wq1
#endif
#if ${OB16}
#include "conv2d-fma-quad.wgsl" Q=2 W=wq2
#include "conv2d-fma-quad.wgsl" Q=3 W=wq3
#endif
