export * from './matmul.js';
export * from './conv2d.js';
export * from './pool.js';
export * from './loss.js';
export * from './sgd_l2.js';
export * from './elementwise.js';
export * from './topk_mask.js';
export * from './cluster.js';
