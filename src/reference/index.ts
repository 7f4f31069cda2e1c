export * from './matmul.js';
export * from './topk_mask.js';
