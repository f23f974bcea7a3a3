// The LSTM time loops of style `bptt` on CPU, float32 (the equations are in bptt.py).
//
// Built on first use by implementations/rnn/bptt_kernel.py; without a compiler the same loops
// run in Python (bptt_cells.py). Why a compiled loop: at the MNIST shape one step's tensors are
// small (64 x 128), and the Python loop's ~10 ATen calls a step cost more than the step's GEMM.
//
// What it does differently from the Python loop:
// - The batch is split into one block of rows per thread, and each thread runs the whole time
//   loop on its rows: rows of an RNN never interact, so no step waits for another thread.
// - Each step's GEMM is ATen's brgemm (a oneDNN micro-kernel, single-threaded) on the thread's
//   rows, with W_hh^T (forward) or W_hh (backward) read in place every step.
// - The gate nonlinearities, the cell update and (backward) every factor of dG are one pass over
//   the rows' elements, with a polynomial exp that the compiler vectorises.

#include <torch/extension.h>

#include <ATen/Parallel.h>
#include <ATen/native/CPUBlas.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

// exp(x) for float32: x = n ln2 + r with |r| <= ln2 / 2 (ln2 in two parts, Cody-Waite), e^r by
// a degree-6 polynomial (the Cephes expf coefficients, about 1 ulp), times 2^n put together in
// the exponent bits. x is clamped to [-87, 88], where 2^n stays a normal float.
inline float exp_f(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  const float n = __builtin_rintf(x * 1.44269504088896341f);
  float r = __builtin_fmaf(n, -0.693359375f, x);
  r = __builtin_fmaf(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = __builtin_fmaf(p, r, 1.3981999507e-3f);
  p = __builtin_fmaf(p, r, 8.3334519073e-3f);
  p = __builtin_fmaf(p, r, 4.1665795894e-2f);
  p = __builtin_fmaf(p, r, 1.6666665459e-1f);
  p = __builtin_fmaf(p, r, 5.0000001201e-1f);
  p = __builtin_fmaf(p, r * r, r + 1.0f);
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline float sigmoid_f(float x) { return 1.0f / (1.0f + exp_f(-x)); }
inline float tanh_f(float x) { return 2.0f * sigmoid_f(2.0f * x) - 1.0f; }

#if defined(__x86_64__) && defined(__GNUC__)
#define BPTT_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define BPTT_CLONES
#endif

// One forward step on `rows` rows: pre (rows, 4H) holds x W_ih^T + b + h W_hh^T and receives the
// activations i, f, g, o; c_prev, c, tanh_c, h are (rows, H).
BPTT_CLONES void forward_cells(float* __restrict pre, const float* __restrict c_prev,
                               float* __restrict c, float* __restrict tanh_c,
                               float* __restrict h, int64_t rows, int64_t hidden) {
  for (int64_t b = 0; b < rows; ++b) {
    float* gi = pre + b * 4 * hidden;
    float* gf = gi + hidden;
    float* gg = gf + hidden;
    float* go = gg + hidden;
    const float* cp = c_prev + b * hidden;
    float* cb = c + b * hidden;
    float* tb = tanh_c + b * hidden;
    float* hb = h + b * hidden;
#pragma omp simd
    for (int64_t j = 0; j < hidden; ++j) {
      const float i = sigmoid_f(gi[j]), f = sigmoid_f(gf[j]), g = tanh_f(gg[j]);
      const float o = sigmoid_f(go[j]);
      const float cell = f * cp[j] + i * g;
      const float tc = tanh_f(cell);
      gi[j] = i;
      gf[j] = f;
      gg[j] = g;
      go[j] = o;
      cb[j] = cell;
      tb[j] = tc;
      hb[j] = o * tc;
    }
  }
}

// One backward step on `rows` rows: from the carried dh (the total gradient reaching h_t) and dc,
// dG_t (rows, 4H) into dg; dc becomes dc_{t-1} = dc_t f_t.
BPTT_CLONES void backward_cells(const float* __restrict act, const float* __restrict c_prev,
                                const float* __restrict tanh_c, const float* __restrict dh,
                                float* __restrict dc, float* __restrict dg,
                                float* __restrict db, int64_t rows, int64_t hidden) {
  for (int64_t b = 0; b < rows; ++b) {
    const float* ai = act + b * 4 * hidden;
    const float* af = ai + hidden;
    const float* ag = af + hidden;
    const float* ao = ag + hidden;
    float* di = dg + b * 4 * hidden;
    float* df = di + hidden;
    float* dgg = df + hidden;
    float* dout = dgg + hidden;
    const float* cp = c_prev + b * hidden;
    const float* tb = tanh_c + b * hidden;
    const float* dhb = dh + b * hidden;
    float* dcb = dc + b * hidden;
#pragma omp simd
    for (int64_t j = 0; j < hidden; ++j) {
      const float i = ai[j], f = af[j], g = ag[j], o = ao[j], tc = tb[j], d_h = dhb[j];
      const float d_c = dcb[j] + d_h * o * (1.0f - tc * tc);
      di[j] = d_c * g * i * (1.0f - i);
      df[j] = d_c * cp[j] * f * (1.0f - f);
      dgg[j] = d_c * i * (1.0f - g * g);
      dout[j] = d_h * tc * o * (1.0f - o);
      dcb[j] = d_c * f;
    }
    if (db != nullptr) {  // the bias gradient: dG summed over rows (and, by the caller, steps)
#pragma omp simd
      for (int64_t j = 0; j < 4 * hidden; ++j) db[j] += di[j];
    }
  }
}

void check(const at::Tensor& t, const char* name) {
  TORCH_CHECK(t.device().is_cpu() && t.scalar_type() == at::kFloat && t.is_contiguous(),
              "bptt LSTM kernel: ", name, " must be a contiguous float32 CPU tensor");
}

// Row blocks: one per thread, none smaller than 4 rows (fewer rows cost more than they save).
std::vector<int64_t> blocks(int64_t batch) {
  const int64_t n = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), batch / 4));
  std::vector<int64_t> starts;
  for (int64_t k = 0; k <= n; ++k) starts.push_back(batch * k / n);
  return starts;
}

// Runs fn(start, end) for every row block, one block per thread.
template <typename F>
void for_blocks(int64_t batch, const F& fn) {
  const std::vector<int64_t> starts = blocks(batch);
  const int64_t n = static_cast<int64_t>(starts.size()) - 1;
  at::parallel_for(0, n, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) fn(starts[k], starts[k + 1]);
    at::native::cpublas::brgemm_release(false);
  });
}

}  // namespace

// gates (T, B, 4H) = x W_ih^T + b_ih + b_hh, overwritten with the activations i, f, g, o;
// h0, c0 (B, H); w_hh (4H, H). Returns out (T, B, H), cells (T+1, B, H) = c0 .. c_T, tanh_c.
std::vector<at::Tensor> lstm_forward(at::Tensor gates, at::Tensor h0, at::Tensor c0,
                                     at::Tensor w_hh) {
  for (auto* t : {&gates, &h0, &c0, &w_hh}) check(*t, "every input");
  const int64_t steps = gates.size(0), batch = gates.size(1), hidden = h0.size(1);
  TORCH_CHECK(gates.size(2) == 4 * hidden && w_hh.size(0) == 4 * hidden && w_hh.size(1) == hidden,
              "bptt LSTM kernel: shapes do not match");
  const at::Tensor w_t = w_hh.t().contiguous();  // (H, 4H)
  at::Tensor out = at::empty({steps, batch, hidden}, h0.options());
  at::Tensor cells = at::empty({steps + 1, batch, hidden}, h0.options());
  at::Tensor tanh_c = at::empty({steps, batch, hidden}, h0.options());
  cells[0].copy_(c0);
  float* pre = gates.data_ptr<float>();
  float* o = out.data_ptr<float>();
  float* c = cells.data_ptr<float>();
  float* tc = tanh_c.data_ptr<float>();
  const float* w = w_t.data_ptr<float>();
  const float* h_init = h0.data_ptr<float>();
  const int64_t g4 = 4 * hidden;
  for_blocks(batch, [&](int64_t r0, int64_t r1) {
    const int64_t rows = r1 - r0;
    const float* h = h_init + r0 * hidden;
    for (int64_t t = 0; t < steps; ++t) {
      float* pre_t = pre + (t * batch + r0) * g4;
      at::native::cpublas::brgemm(rows, g4, hidden, hidden, g4, g4, true, h, w, pre_t, false);
      float* h_t = o + (t * batch + r0) * hidden;
      forward_cells(pre_t, c + (t * batch + r0) * hidden, c + ((t + 1) * batch + r0) * hidden,
                    tc + (t * batch + r0) * hidden, h_t, rows, hidden);
      h = h_t;
    }
  });
  return {out, cells, tanh_c};
}

// rows (rows, cols) of a row-major matrix with leading dimension ld -> out (cols, rows).
void transpose(const float* in, int64_t rows, int64_t cols, int64_t ld, float* out) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[c * rows + r] = in[r * ld + c];
}

// dout (T, B, H); dh, dc = dL/dh_T, dL/dc_T (B, H); act, cells, tanh_c from lstm_forward;
// x (T, B, I), h0 (B, H) and out (T, B, H): the layer's input, initial and hidden states.
// Returns dG (T, B, 4H), dL/dh0 (B, H; undefined unless need_h0), dL/dc0 (B, H), and when
// need_w, dW_ih (4H, I), dW_hh (4H, H) and db (4H) = dL/db_ih = dL/db_hh (else undefined).
// With need_w every thread also accumulates its rows' share of the weight gradients step by
// step (dW^T += h_{t-1}^T dG_t, x_t^T dG_t: the GEMMs' operands are still in cache), and the
// shares are summed at the end.
std::vector<at::Tensor> lstm_backward(at::Tensor dout, at::Tensor dh, at::Tensor dc,
                                      at::Tensor act, at::Tensor cells, at::Tensor tanh_c,
                                      at::Tensor w_hh, at::Tensor x, at::Tensor h0,
                                      at::Tensor out, bool need_h0, bool need_w) {
  for (auto* t : {&dout, &dh, &dc, &act, &cells, &tanh_c, &w_hh, &x, &h0, &out})
    check(*t, "every input");
  const int64_t steps = act.size(0), batch = act.size(1), hidden = dh.size(1);
  const int64_t inputs = x.size(2), g4 = 4 * hidden;
  const std::vector<int64_t> starts = blocks(batch);
  const int64_t n_blocks = static_cast<int64_t>(starts.size()) - 1;
  at::Tensor dg = at::empty({steps, batch, g4}, act.options());
  at::Tensor carry_h = dh.add(dout[steps - 1]);  // the total gradient reaching h_T
  at::Tensor carry_c = dc.clone();
  at::Tensor dh0 = need_h0 ? at::empty_like(dh) : at::Tensor();
  // per block: dW_hh^T (H, 4H), dW_ih^T (I, 4H), db (4H)
  at::Tensor part_hh, part_ih, part_b;
  if (need_w) {
    part_hh = at::zeros({n_blocks, hidden, g4}, act.options());
    part_ih = at::zeros({n_blocks, inputs, g4}, act.options());
    part_b = at::zeros({n_blocks, g4}, act.options());
  }
  const float* a = act.data_ptr<float>();
  const float* c = cells.data_ptr<float>();
  const float* tc = tanh_c.data_ptr<float>();
  const float* d_out = dout.data_ptr<float>();
  const float* w = w_hh.data_ptr<float>();
  const float* xs = x.data_ptr<float>();
  const float* hs = out.data_ptr<float>();
  const float* h_init = h0.data_ptr<float>();
  float* d_g = dg.data_ptr<float>();
  float* ch = carry_h.data_ptr<float>();
  float* cc = carry_c.data_ptr<float>();
  float* d_h0 = need_h0 ? dh0.data_ptr<float>() : nullptr;
  at::parallel_for(0, n_blocks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) {
      const int64_t r0 = starts[k], rows = starts[k + 1] - r0;
      float* dh_rows = ch + r0 * hidden;
      float* w_hh_t = need_w ? part_hh.data_ptr<float>() + k * hidden * g4 : nullptr;
      float* w_ih_t = need_w ? part_ih.data_ptr<float>() + k * inputs * g4 : nullptr;
      float* b_sum = need_w ? part_b.data_ptr<float>() + k * g4 : nullptr;
      std::vector<float> h_t(need_w ? hidden * rows : 0), x_t(need_w ? inputs * rows : 0);
      for (int64_t t = steps - 1; t >= 0; --t) {
        float* dg_t = d_g + (t * batch + r0) * g4;
        backward_cells(a + (t * batch + r0) * g4, c + (t * batch + r0) * hidden,
                       tc + (t * batch + r0) * hidden, dh_rows, cc + r0 * hidden, dg_t, b_sum,
                       rows, hidden);
        if (need_w) {  // dW_hh^T += h_{t-1}^T dG_t;  dW_ih^T += x_t^T dG_t
          const float* h_prev = t > 0 ? hs + ((t - 1) * batch + r0) * hidden : h_init + r0 * hidden;
          transpose(h_prev, rows, hidden, hidden, h_t.data());
          at::native::cpublas::brgemm(hidden, g4, rows, rows, g4, g4, true, h_t.data(), dg_t,
                                      w_hh_t, false);
          transpose(xs + (t * batch + r0) * inputs, rows, inputs, inputs, x_t.data());
          at::native::cpublas::brgemm(inputs, g4, rows, rows, g4, g4, true, x_t.data(), dg_t,
                                      w_ih_t, false);
        }
        if (t > 0) {  // dh_{t-1} = dout_{t-1} + dG_t W_hh
          std::memcpy(dh_rows, d_out + ((t - 1) * batch + r0) * hidden,
                      sizeof(float) * rows * hidden);
          at::native::cpublas::brgemm(rows, hidden, g4, g4, hidden, hidden, true, dg_t, w,
                                      dh_rows, false);
        } else if (need_h0) {
          at::native::cpublas::brgemm(rows, hidden, g4, g4, hidden, hidden, false, dg_t, w,
                                      d_h0 + r0 * hidden, false);
        }
      }
    }
    at::native::cpublas::brgemm_release(false);
  });
  at::Tensor dw_ih, dw_hh, db;
  if (need_w) {
    dw_hh = part_hh.sum(0).t().contiguous();
    dw_ih = part_ih.sum(0).t().contiguous();
    db = part_b.sum(0);
  }
  return {dg, dh0, carry_c, dw_ih, dw_hh, db};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("lstm_forward", &lstm_forward, "bptt LSTM forward time loop (CPU, float32)");
  m.def("lstm_backward", &lstm_backward, "bptt LSTM backward time loop (CPU, float32)");
}
