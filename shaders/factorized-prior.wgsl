// The factorised entropy model of the image codec (Ballé et al. 2018, "Variational image compression
// with a scale hyperprior", appendix 6.1): per latent channel c a monotone MLP 1-3-3-3-1 maps a value
// v to the logit of its cumulative distribution, F_c(v) = sigmoid(logit_c(v)):
//   z0 = softplus(H0)·v + b0,   a0 = z0 + tanh(f0) ⊙ tanh(z0)      (H0: 3×1)
//   z1 = softplus(H1)·a0 + b1,  a1 = z1 + tanh(f1) ⊙ tanh(z1)      (H1: 3×3, row-major [out][in])
//   z2 = softplus(H2)·a1 + b2,  a2 = z2 + tanh(f2) ⊙ tanh(z2)
//   logit = softplus(H3)·a2 + b3                                   (H3: 1×3)
// The likelihood of a (noisy or rounded) latent y is the mass of its unit bin, computed on the side
// of the median where the sigmoids are small (s = −sign(lo + up), as in the reference code):
//   lik = |sigmoid(s·up) − sigmoid(s·lo)|, lo = logit(y − ½), up = logit(y + ½);  bits = −log2(max(lik, 1e-9))
// theta (C, 43) holds each channel's raw parameters in the order H0 b0 f0 H1 b1 f1 H2 b2 f2 H3 b3
// (3+3+3+9+3+3+9+3+3+3+1). y, bits, dbits, dy: (N, C, HW) (any NCHW tensor, HW = H·W).
// Entry points (one per specialisation):
//   !BACKWARD: bits[i] = −log2 lik(y[i]), one invocation per element.
//   BACKWARD: one workgroup per channel; dy[i] = dbits[i]·∂bits/∂y and dtheta[c] = Σ_i dbits[i]·∂bits/∂theta
//     (overwritten, not accumulated). Bins below the 1e-9 floor get zero gradients (torch's clamp_min).
//     Each invocation sums a fixed strided subset, then one invocation per parameter adds the WG
//     partials in order: no atomics, the same bits on every run.
// Defines: WG, BACKWARD.

struct Params {
  N: u32, C: u32, HW: u32, _p0: u32,
}

const NP = 43u;
const LIK_MIN = 1e-9;
const LN2 = 0.6931471805599453;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> theta: array<f32>;
#if ${BACKWARD}
@group(0) @binding(3) var<storage, read> dbits: array<f32>;
@group(0) @binding(4) var<storage, read_write> dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> dtheta: array<f32>;
#else
@group(0) @binding(3) var<storage, read_write> bits: array<f32>;
#endif

fn softplus(v: f32) -> f32 { return max(v, 0.0) + log(1.0 + exp(-abs(v))); }
fn sigmoid(v: f32) -> f32 {
  if (v >= 0.0) { return 1.0 / (1.0 + exp(-v)); }
  let e = exp(v);
  return e / (1.0 + e);
}

// One channel's parameters, transformed once: softplus of the matrices, tanh of the factors.
struct Chan {
  h0: vec3<f32>, b0: vec3<f32>, t0: vec3<f32>,
  h1: array<vec3<f32>, 3>, b1: vec3<f32>, t1: vec3<f32>,
  h2: array<vec3<f32>, 3>, b2: vec3<f32>, t2: vec3<f32>,
  h3: vec3<f32>, b3: f32,
}

fn v3(o: u32) -> vec3<f32> { return vec3<f32>(theta[o], theta[o + 1u], theta[o + 2u]); }
fn sp3(o: u32) -> vec3<f32> { return vec3<f32>(softplus(theta[o]), softplus(theta[o + 1u]), softplus(theta[o + 2u])); }
fn th3(o: u32) -> vec3<f32> { return tanh(v3(o)); }

fn load_chan(c: u32) -> Chan {
  let o = c * NP;
  var ch: Chan;
  ch.h0 = sp3(o); ch.b0 = v3(o + 3u); ch.t0 = th3(o + 6u);
  ch.h1 = array<vec3<f32>, 3>(sp3(o + 9u), sp3(o + 12u), sp3(o + 15u)); ch.b1 = v3(o + 18u); ch.t1 = th3(o + 21u);
  ch.h2 = array<vec3<f32>, 3>(sp3(o + 24u), sp3(o + 27u), sp3(o + 30u)); ch.b2 = v3(o + 33u); ch.t2 = th3(o + 36u);
  ch.h3 = sp3(o + 39u); ch.b3 = theta[o + 42u];
  return ch;
}

fn mv(h: array<vec3<f32>, 3>, a: vec3<f32>) -> vec3<f32> { return vec3<f32>(dot(h[0], a), dot(h[1], a), dot(h[2], a)); }

// The activations of one MLP evaluation (kept for the backward pass).
struct Acts { z0: vec3<f32>, a0: vec3<f32>, z1: vec3<f32>, a1: vec3<f32>, z2: vec3<f32>, a2: vec3<f32>, out: f32 }

fn mlp(ch: Chan, v: f32) -> Acts {
  var r: Acts;
  r.z0 = ch.h0 * v + ch.b0;
  r.a0 = r.z0 + ch.t0 * tanh(r.z0);
  r.z1 = mv(ch.h1, r.a0) + ch.b1;
  r.a1 = r.z1 + ch.t1 * tanh(r.z1);
  r.z2 = mv(ch.h2, r.a1) + ch.b2;
  r.a2 = r.z2 + ch.t2 * tanh(r.z2);
  r.out = dot(ch.h3, r.a2) + ch.b3;
  return r;
}

#if ${BACKWARD}
var<private> g: array<f32, 43>;
var<workgroup> partial: array<f32, ${WG} * 43>;

fn add3(o: u32, v: vec3<f32>) { g[o] += v.x; g[o + 1u] += v.y; g[o + 2u] += v.z; }

// ∂/∂(raw theta) of gout·logit(v), accumulated into g; returns ∂(gout·logit)/∂v.
fn mlp_backward(ch: Chan, c: u32, v: f32, gout: f32) -> f32 {
  let o = c * NP;
  let r = mlp(ch, v);
  // layer 3
  add3(39u, gout * r.a2 * sigmoid3(o + 39u));
  g[42] += gout;
  var da = gout * ch.h3;
  // layer 2
  var tz = tanh(r.z2);
  add3(36u, da * tz * (1.0 - ch.t2 * ch.t2));
  var dz = da * (1.0 + ch.t2 * (1.0 - tz * tz));
  add3(33u, dz);
  for (var j = 0u; j < 3u; j++) { add3(24u + 3u * j, dz[j] * r.a1 * sigmoid3(o + 24u + 3u * j)); }
  da = dz[0] * ch.h2[0] + dz[1] * ch.h2[1] + dz[2] * ch.h2[2];
  // layer 1
  tz = tanh(r.z1);
  add3(21u, da * tz * (1.0 - ch.t1 * ch.t1));
  dz = da * (1.0 + ch.t1 * (1.0 - tz * tz));
  add3(18u, dz);
  for (var j = 0u; j < 3u; j++) { add3(9u + 3u * j, dz[j] * r.a0 * sigmoid3(o + 9u + 3u * j)); }
  da = dz[0] * ch.h1[0] + dz[1] * ch.h1[1] + dz[2] * ch.h1[2];
  // layer 0
  tz = tanh(r.z0);
  add3(6u, da * tz * (1.0 - ch.t0 * ch.t0));
  dz = da * (1.0 + ch.t0 * (1.0 - tz * tz));
  add3(3u, dz);
  add3(0u, dz * v * sigmoid3(o));
  return dot(dz, ch.h0);
}

fn sigmoid3(o: u32) -> vec3<f32> { return vec3<f32>(sigmoid(theta[o]), sigmoid(theta[o + 1u]), sigmoid(theta[o + 2u])); }

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = wid.x;
  let t = lid.x;
  for (var k = 0u; k < NP; k++) { g[k] = 0.0; }
  let ch = load_chan(c);
  let per = p.N * p.HW;
  for (var e = t; e < per; e += ${WG}u) {
    let i = ((e / p.HW) * p.C + c) * p.HW + e % p.HW;
    let v = y[i];
    let lo = mlp(ch, v - 0.5).out;
    let up = mlp(ch, v + 0.5).out;
    let s = -sign(lo + up);
    let d = sigmoid(s * up) - sigmoid(s * lo);
    let lik = abs(d);
    var dv = 0.0;
    if (lik >= LIK_MIN) {
      // ∂bits/∂lik = −1/(lik·ln2); ∂lik/∂up = sign(d)·s·σ'(s·up); ∂lik/∂lo = −sign(d)·s·σ'(s·lo)
      let q = -dbits[i] / (lik * LN2) * sign(d) * s;
      let su = sigmoid(s * up);
      let sl = sigmoid(s * lo);
      dv = mlp_backward(ch, c, v + 0.5, q * su * (1.0 - su)) + mlp_backward(ch, c, v - 0.5, -q * sl * (1.0 - sl));
    }
    dy[i] = dv;
  }
  for (var k = 0u; k < NP; k++) { partial[t * NP + k] = g[k]; }
  workgroupBarrier();
  if (t < NP) {
    var acc = 0.0;
    for (var j = 0u; j < ${WG}u; j++) { acc += partial[j * NP + t]; }
    dtheta[c * NP + t] = acc;
  }
}
#else
@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid.x;
  if (i >= p.N * p.C * p.HW) { return; }
  let ch = load_chan((i / p.HW) % p.C);
  let v = y[i];
  let lo = mlp(ch, v - 0.5).out;
  let up = mlp(ch, v + 0.5).out;
  let s = -sign(lo + up);
  let lik = abs(sigmoid(s * up) - sigmoid(s * lo));
  bits[i] = -log2(max(lik, LIK_MIN));
}
#endif
