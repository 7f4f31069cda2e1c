// matmul.wgsl's sg8 kernel, A rows not transposed (or not vec4): lane l loads row r0 + l (and
// r0 + 8 + l) at k..k+3 and every tile row reaches all lanes by subgroupBroadcast.
    let a0 = a_quad_k(r0 + l, k);      // row r0 + l, k..k+3
    let a1 = a_quad_k(r0 + 8u + l, k); // row r0 + 8 + l
    fma_row(subgroupBroadcast(a0, 0u), b0, b1, b2, b3, &acc0);
    fma_row(subgroupBroadcast(a0, 1u), b0, b1, b2, b3, &acc1);
    fma_row(subgroupBroadcast(a0, 2u), b0, b1, b2, b3, &acc2);
    fma_row(subgroupBroadcast(a0, 3u), b0, b1, b2, b3, &acc3);
    fma_row(subgroupBroadcast(a0, 4u), b0, b1, b2, b3, &acc4);
    fma_row(subgroupBroadcast(a0, 5u), b0, b1, b2, b3, &acc5);
    fma_row(subgroupBroadcast(a0, 6u), b0, b1, b2, b3, &acc6);
    fma_row(subgroupBroadcast(a0, 7u), b0, b1, b2, b3, &acc7);
    fma_row(subgroupBroadcast(a1, 0u), b0, b1, b2, b3, &acc8);
    fma_row(subgroupBroadcast(a1, 1u), b0, b1, b2, b3, &acc9);
    fma_row(subgroupBroadcast(a1, 2u), b0, b1, b2, b3, &acc10);
    fma_row(subgroupBroadcast(a1, 3u), b0, b1, b2, b3, &acc11);
    fma_row(subgroupBroadcast(a1, 4u), b0, b1, b2, b3, &acc12);
    fma_row(subgroupBroadcast(a1, 5u), b0, b1, b2, b3, &acc13);
    fma_row(subgroupBroadcast(a1, 6u), b0, b1, b2, b3, &acc14);
    fma_row(subgroupBroadcast(a1, 7u), b0, b1, b2, b3, &acc15);
