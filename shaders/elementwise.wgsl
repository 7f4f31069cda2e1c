// Element-wise kernels for the training loop, flat over n elements (any shapes of equal size):
//   relu:             out = max(x, 0)               (X = x)
//   relu_backward:    out = dy · (y > 0)            (y: the ReLU output or its input; X = y, Y = dy)
//   sigmoid:          out = 1 / (1 + exp(−x))       (X = x)
//   sigmoid_backward: out = dy · y · (1 − y)        (y: the sigmoid OUTPUT; X = y, Y = dy)
//   tanh_fwd:         out = tanh(x)                 (X = x)
//   tanh_backward:    out = dy · (1 − y²)           (y: the tanh OUTPUT; X = y, Y = dy)
//   fill:             out = a
//   scale:            out = a · x                   (X = x)
//   axpy:             out += a · x                  (X = x; out is y)
//   copy:             out = x                       (X = x)
//   gelu:             out = x/2 · (1 + tanh(√(2/π)(x + 0.044715x³)))   (X = x; GPT-2's tanh form,
//                     computed as x·σ(2u), u the tanh argument: the same function, no cancellation)
//   gelu_backward:    out = dy · gelu'(x)           (x: the gelu INPUT; X = x, Y = dy)
//   add:              out = x + y                   (X = x, Y = y; the residual add)
// X and Y are read-only inputs, out is written. IN_PLACE_X reads x from out instead of X
// (out = f(out)), IN_PLACE_Y reads dy from out instead of Y (dx written over dy): WebGPU cannot
// bind one buffer both read-only and writable. With VEC4 an item is a vec4 (4 elements; the
// wrapper binds a body that is a multiple of 4 elements and dispatches the < 64 remaining
// elements again with VEC4 = false on the tail ranges). p.n counts items, a is the scalar operand.
// The flat item index comes from workgroup_id/num_workgroups (2-D grid beyond 65535 groups).
// Defines: IN_PLACE_X, IN_PLACE_Y, VEC4 (bool), WG (workgroup size).

struct Params { n: u32, a: f32, _pad0: u32, _pad1: u32 }

#if ${VEC4}
alias V = vec4<f32>;
#else
alias V = f32;
#endif

@group(0) @binding(0) var<uniform> p: Params;
#if ${IN_PLACE_X}
#else
@group(0) @binding(1) var<storage, read> X: array<V>;
#endif
#if ${IN_PLACE_Y}
#else
@group(0) @binding(2) var<storage, read> Y: array<V>;
#endif
@group(0) @binding(3) var<storage, read_write> out: array<V>;

fn ld_x(i: u32) -> V {
#if ${IN_PLACE_X}
  return out[i];
#else
  return X[i];
#endif
}

fn ld_y(i: u32) -> V {
#if ${IN_PLACE_Y}
  return out[i];
#else
  return Y[i];
#endif
}

fn index(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wid.y * nwg.x + wid.x) * ${WG}u + lid.x;
}

@compute @workgroup_size(${WG}, 1, 1)
fn relu(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let x = ld_x(i);
  out[i] = select(V(0.0), x, x > V(0.0));
}

@compute @workgroup_size(${WG}, 1, 1)
fn relu_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = select(V(0.0), ld_y(i), ld_x(i) > V(0.0));
}

@compute @workgroup_size(${WG}, 1, 1)
fn sigmoid(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  // exp of a non-positive number only: no overflow for large |x|
  let x = ld_x(i);
  let e = exp(-abs(x));
  out[i] = select(e / (1.0 + e), 1.0 / (1.0 + e), x >= V(0.0));
}

@compute @workgroup_size(${WG}, 1, 1)
fn sigmoid_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let y = ld_x(i);
  out[i] = ld_y(i) * y * (1.0 - y);
}

// tanh(|x|) = (1 − e)/(1 + e), e = exp(−2|x|) ∈ (0, 1]: no overflow and exactly ±1 far out
fn stable_tanh(x: V) -> V {
  let e = exp(-2.0 * abs(x));
  return sign(x) * ((1.0 - e) / (1.0 + e));
}

@compute @workgroup_size(${WG}, 1, 1)
fn tanh_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = stable_tanh(ld_x(i));
}

@compute @workgroup_size(${WG}, 1, 1)
fn tanh_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let y = ld_x(i);
  out[i] = ld_y(i) * (1.0 - y * y);
}

@compute @workgroup_size(${WG}, 1, 1)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = V(p.a);
}

@compute @workgroup_size(${WG}, 1, 1)
fn scale(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = p.a * ld_x(i);
}

@compute @workgroup_size(${WG}, 1, 1)
fn axpy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = fma(V(p.a), ld_x(i), out[i]);
}

@compute @workgroup_size(${WG}, 1, 1)
fn copy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = ld_x(i);
}

const GELU_K0 = 0.7978845608028654;   // √(2/π)
const GELU_K1 = 0.044715;

// (1 + tanh(u))/2 = σ(2u) and 1 − σ(2u), each without cancellation (the tanh form loses all
// digits of gelu'(x) for x ≲ −4 in f32): e = exp(−|2u|) ∈ (0, 1]
struct Sig { s: V, c: V }
fn gelu_sig(x: V) -> Sig {
  let z = 2.0 * GELU_K0 * fma(V(GELU_K1) * x, x * x, x);
  let e = exp(-abs(z));
  let a = 1.0 / (1.0 + e);
  let b = e * a;
  let pos = z >= V(0.0);
  return Sig(select(b, a, pos), select(a, b, pos));
}

@compute @workgroup_size(${WG}, 1, 1)
fn gelu(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let x = ld_x(i);
  out[i] = x * gelu_sig(x).s;
}

@compute @workgroup_size(${WG}, 1, 1)
fn gelu_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let x = ld_x(i);
  let g = gelu_sig(x);
  // d/dx [x·σ(2u)] = σ + x · 2σ(1 − σ) · u',  u' = √(2/π)(1 + 3·0.044715x²)
  let du = GELU_K0 * fma(V(3.0 * GELU_K1), x * x, V(1.0));
  out[i] = ld_y(i) * fma(2.0 * x * g.s * g.c, du, g.s);
}

@compute @workgroup_size(${WG}, 1, 1)
fn add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = ld_x(i) + ld_y(i);
}
