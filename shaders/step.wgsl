// The scheduler's own kernels: per-step values and batch gathering, all driven by a step counter
// that lives on the GPU, so many steps can be recorded into one command encoder with no CPU work
// between them.
//   state (u32[4]):  [0] global step, [1] step at which the current epoch's permutation starts,
//                    [2] text windows drawn by a hash instead of perm when ≠ 0: their count,
//                    [3] the hash's seed
//   table (f32[CAP * W]): per step s at (s % CAP)*W: the optimizer's row (SGD: lr, momentum, l2, 0)
//   hyper (f32[W]):  the current step's row (read by the update kernel); W = p.D in prepare
//   perm  (u32[n]):  this epoch's shuffled sample order
//   data  (u32[...]): the data set, bytes packed 4 per u32 (U8) or f32 bits; (n, D) row-major
//   out   (f32[B, D]): the gathered, normalised batch: x·scale + shift
// Defines: U8 (bool: data holds bytes); WORDS (bool: U8 and D % 4 == 0, so every sample starts on
// a word and one invocation unpacks a whole u32 into 4 outputs); WG (workgroup size).

struct Params { B: u32, D: u32, cap: u32, n: u32, scale: f32, shift: f32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> state: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;
@group(0) @binding(3) var<storage, read_write> hyper: array<f32>;
@group(0) @binding(4) var<storage, read> perm: array<u32>;
@group(0) @binding(5) var<storage, read> data: array<u32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<storage, read> labels: array<u32>;
@group(0) @binding(8) var<storage, read_write> out_labels: array<u32>;
@group(0) @binding(9) var<storage, read_write> out_tokens: array<u32>;

// hyper ← table[step % cap] (W = p.D values)
@compute @workgroup_size(1)
fn prepare() {
  let row = (state[0] % p.cap) * p.D;
  for (var k = 0u; k < p.D; k++) {
    hyper[k] = table[row + k];
  }
}

@compute @workgroup_size(1)
fn advance() {
  state[0] = state[0] + 1u;
}

fn sample_of(j: u32) -> u32 {
  let local = state[0] - state[1];
  return perm[(local * p.B + j) % p.n];
}

// out[j, d] = data[perm[batch start + j], d] · scale + shift
@compute @workgroup_size(${WG})
fn gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid;
#if ${WORDS}
  // one invocation per word: 4 consecutive features of one sample
  let dw = p.D >> 2u;
  if (i >= p.B * dw) { return; }
  let j = i / dw;
  let w = i - j * dw;
  let word = data[sample_of(j) * dw + w];
  let o = j * p.D + (w << 2u);
  out[o] = f32(word & 0xffu) * p.scale + p.shift;
  out[o + 1u] = f32((word >> 8u) & 0xffu) * p.scale + p.shift;
  out[o + 2u] = f32((word >> 16u) & 0xffu) * p.scale + p.shift;
  out[o + 3u] = f32(word >> 24u) * p.scale + p.shift;
#else
  if (i >= p.B * p.D) { return; }
  let j = i / p.D;
  let d = i - j * p.D;
  let x = sample_of(j) * p.D + d;
#if ${U8}
  let v = f32((data[x >> 2u] >> ((x & 3u) * 8u)) & 0xffu);
#else
  let v = bitcast<f32>(data[x]);
#endif
  out[i] = v * p.scale + p.shift;
#endif
}

@compute @workgroup_size(${WG})
fn gather_labels(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= p.B) { return; }
  out_labels[j] = labels[sample_of(j)];
}

fn byte_at(x: u32) -> u32 {
  return (data[x >> 2u] >> ((x & 3u) * 8u)) & 0xffu;
}

fn hash32(v: u32) -> u32 {
  var x = v;
  x = (x ^ (x >> 16u)) * 0x85ebca6bu;
  x = (x ^ (x >> 13u)) * 0xc2b2ae35u;
  return x ^ (x >> 16u);
}

// Text windows: window j of this step starts at byte s = perm[(step − start)·B + j] (a shuffled
// list of window starts), or at hash(seed, step·B + j) mod state[2] when state[2] ≠ 0 (windows from
// a prefix whose length the caller sets, no permutation). p.D = T, p.B = windows.
//   out_tokens[j·T + t] = text[s + t], out_labels[j·T + t] = text[s + t + 1]
@compute @workgroup_size(${WG})
fn gather_text(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid;
  if (i >= p.B * p.D) { return; }
  let j = i / p.D;
  let t = i - j * p.D;
  var s: u32;
  if (state[2] != 0u) {
    s = hash32(hash32(state[3]) ^ (state[0] * p.B + j)) % state[2];
  } else {
    s = sample_of(j);
  }
  out_tokens[i] = byte_at(s + t);
  out_labels[i] = byte_at(s + t + 1u);
}
