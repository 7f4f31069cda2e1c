// conv2d main, one tap k: the weights wq{q} of channel quads o0 + 4q (q = 0; 1 with OB8; 2, 3 with
// OB16) by 4 loads each.
          let wq0 = w4(wb0, k);
#if ${OB8}
          let wq1 = w4(wb1, k);
#endif
#if ${OB16}
          let wq2 = w4(wb2, k);
          let wq3 = w4(wb3, k);
#endif
