// Template (conv2d main, filter_sg): channel quad {{Q}} of the register block, 4 output columns t:
// a{t}{{Q}} += x{t}·{{W}} (a vec4 of 4 channels).
  a0{{Q}} = fma(vec4<f32>(x0), {{W}}, a0{{Q}});
  a1{{Q}} = fma(vec4<f32>(x1), {{W}}, a1{{Q}});
  a2{{Q}} = fma(vec4<f32>(x2), {{W}}, a2{{Q}});
  a3{{Q}} = fma(vec4<f32>(x3), {{W}}, a3{{Q}});
