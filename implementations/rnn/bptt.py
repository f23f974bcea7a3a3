"""`bptt`: each layer a torch.autograd.Function with a hand-written backward through time.

Forward. The loop runs only the recurrence (the time loops per cell are in `bptt_cells.py`; an
LSTM's run compiled on CPU in float32, `bptt_kernel.py`, which also accumulates the weight and
bias gradients inside its backward loop), writing into preallocated buffers:

    GX_t = x_t W_ih^T + b                 b = b_ih + b_hh (GRU: b_hh's r, z only)
    per step t:  A_t = GX_t + h_{t-1} W_hh^T;   s_t = cell(A_t)   (GRU: n = tanh(A_n + r * gh_n))

The input projection of all T steps is one GEMM before the loop, X (T*B, I) -> GX (T*B, G*H).
(Each step projecting its own x_t into a cache-hot buffer just before the recurrent GEMM was
tried for the LSTM and GRU. At the MNIST shape on 2 cores, 2 threads, in 3 fresh processes
that each alternated the two ways 120 times, one GEMM over all steps was as fast for the LSTM
forward (ratios 0.98-1.00), 3-5 % faster for its forward + backward and 5-9 % faster for the
GRU's forward and forward + backward.)

Forward saves what backward needs: the outputs h_t, the gate activations (and an LSTM's c_t and
tanh c_t, a GRU's W_hh h + b_hh).

Backward. Only dh (and an LSTM's dc) is carried backwards, one GEMM per step; the gradients of
the gate pre-activations of every step go into one (T, B, G*H) buffer dG (a GRU has two: dG_x
for W_ih x + b_ih, dG_h for W_hh h + b_hh, equal but for the n block). With dh_t the total
gradient reaching h_t (the output's gradient plus what flows back from step t+1):

    RNN   dG_t = dh_t * act'(a_t)                       act' = 1 - h_t^2 (tanh), [h_t > 0] (relu)
          dh_{t-1} = dout_{t-1} + dG_t W_hh
    LSTM  dc_t += dh_t * o_t (1 - tanh^2 c_t)
          dG_t = [dc_t g_t i'_t,  dc_t c_{t-1} f'_t,  dc_t i_t (1 - g_t^2),  dh_t tanh(c_t) o'_t]
          dc_{t-1} = dc_t * f_t;   dh_{t-1} = dout_{t-1} + dG_t W_hh       (s' = s (1 - s))
    GRU   dn = dh_t (1 - z_t)(1 - n_t^2);   gh_n = W_hn h_{t-1} + b_hn
          dG_x,t = [dn gh_n r'_t,  dh_t (h_{t-1} - n_t) z'_t,  dn];   dG_h,t = its n block dn r_t
          dh_{t-1} = dout_{t-1} + dh_t z_t + dG_h,t W_hh

then every other gradient is one GEMM (or one sum) over all steps:

    dW_ih = dG_x^T X       dW_hh = dG_h[1:]^T H[:-1] + dG_h[0]^T h0      dX = dG_x W_ih
    db_ih = sum dG_x       db_hh = sum dG_h        dh0 (and dc0) = the carry after step 0

Every factor of dG that does not depend on the carried gradient is computed for all steps at
once before the loop. Outputs and gradients equal nn.RNN/LSTM/GRU's to the parity tests'
tolerances (float64: 1e-10; tests/test_rnn_parity.py); tanh is evaluated through the identity
tanh(a) = 2 sigmoid(2a) - 1, which is faster on CPU (bptt_cells.py says why).
Double backward is not supported: backward is `once_differentiable`, so differentiating it
raises a RuntimeError instead of silently returning wrong second derivatives.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from implementations.rnn import bptt_cells as cells
from implementations.rnn import bptt_kernel as kernel
from implementations.rnn.base import RNNConfig, StackedRNN

TANH_BLOCK = {"RNN_TANH": 0, "LSTM": 2, "GRU": 2}  # the gate computed as 2 sigmoid(2a) - 1


def _doubled(mode: str, t: Tensor, hidden: int) -> Tensor:
    """A copy of weight or bias `t` (G*H, ...) with the tanh gate's block doubled (exact)."""
    if mode not in TANH_BLOCK:
        return t
    block = TANH_BLOCK[mode]
    t = t.clone()
    t[block * hidden:(block + 1) * hidden] *= 2
    return t


def _biases(mode: str, b_ih: Tensor | None,
            b_hh: Tensor | None) -> tuple[Tensor | None, Tensor | None]:
    """(bias added to the input projection, bias added to W_hh h per step)."""
    if b_ih is None or b_hh is None:
        return None, None
    if mode != "GRU":
        return b_ih + b_hh, None
    hidden = b_hh.size(0) // 3  # b_hr, b_hz join the projection; b_hn stays inside r * (.)
    zeros = b_hh.new_zeros(hidden)
    b_rz, b_n = b_hh[:2 * hidden], b_hh[2 * hidden:]
    return b_ih + torch.cat([b_rz, zeros]), torch.cat([zeros, zeros, b_n])


def forward(mode: str, x: Tensor, h0: Tensor, c0: Tensor | None, w_ih: Tensor, w_hh: Tensor,
            b_ih: Tensor | None, b_hh: Tensor | None,
            keep: bool = True) -> tuple[tuple[Tensor, ...], tuple]:
    """x (T, B, I), h0 (B, H) -> ((out (T, B, H), h_n[, c_n]), what backward needs); without
    `keep`, nothing for backward (the loops then reuse one buffer for every step's values)."""
    steps, batch, hidden = x.size(0), x.size(1), h0.size(-1)
    x2 = x.reshape(steps * batch, -1)
    if mode == "LSTM" and kernel.applies(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        b_x = _biases(mode, b_ih, b_hh)[0]  # nothing doubled: the compiled loops take tanh
        gx = (torch.mm(x2, w_ih.t()) if b_x is None else torch.addmm(b_x, x2, w_ih.t()))
        out, *saved = kernel.lstm_forward(gx.view(steps, batch, -1), h0, c0, w_hh)
        return (out, out[-1].clone(), saved[1][-1].clone()), tuple(saved)
    b_x, b_h = (None if b is None else _doubled(mode, b, hidden)
                for b in _biases(mode, b_ih, b_hh))
    w_x, w_h = _doubled(mode, w_ih, hidden).t(), _doubled(mode, w_hh, hidden)  # (I, G*H), (G*H, H)
    gx = (torch.mm(x2, w_x) if b_x is None else torch.addmm(b_x, x2, w_x)).view(steps, batch, -1)
    if mode == "LSTM":
        out, *saved = cells.lstm_forward(gx, h0, c0, w_h, keep)
        return (out, out[-1].clone(), saved[1][-1].clone()), tuple(saved)
    if mode == "GRU":
        out, *saved = cells.gru_forward(gx, h0, w_h, b_h, keep)
        return (out, out[-1].clone()), tuple(saved)
    out = cells.rnn_forward(gx, h0, w_h, relu=mode == "RNN_RELU")
    return (out, out[-1].clone()), ()


def recurrent_grads(need_w: bool, need_b: bool, dgh: Tensor, h0: Tensor,
                    out: Tensor) -> tuple[Tensor | None, Tensor | None]:
    """dW_hh = dG_h[1:]^T H[:-1] + dG_h[0]^T h0 and db_hh = sum dG_h; dgh (T*B, G*H)."""
    batch = h0.size(0)
    dw = None
    if need_w:  # step 0 reads h0, step t reads h_{t-1} = out[t-1]
        dw = dgh[:batch].t() @ h0  # (G*H, H)
        if dgh.size(0) > batch:
            dw.addmm_(dgh[batch:].t(), out.view(-1, out.size(2))[:-batch])
    return dw, dgh.sum(0) if need_b else None


def input_grads(need_x: bool, need_w: bool, need_b: bool, dgx: Tensor, x: Tensor,
                w_ih: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """dX = dG_x W_ih, dW_ih = dG_x^T X and db_ih = sum dG_x; dgx (T*B, G*H)."""
    dx = (dgx @ w_ih).view(*x.shape[:2], -1) if need_x else None  # (T, B, I)
    # (G*H, I) as the transpose of X^T dG_x: with I small (28 at the MNIST shape) that GEMM
    # measured 30 % faster than dG_x^T X (2 cores, paired, 100 alternations, for G*H = 128-512)
    dw = (x.reshape(dgx.size(0), -1).t() @ dgx).t() if need_w else None
    return dx, dw, dgx.sum(0) if need_b else None


class Layer(torch.autograd.Function):
    """One layer, one direction. apply(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh) ->
    (out, h_n) or for an LSTM (out, h_n, c_n); c0 and the biases may be None."""

    @staticmethod
    def forward(ctx: Any, mode: str, x: Tensor, h0: Tensor, c0: Tensor | None, w_ih: Tensor,
                w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None) -> tuple[Tensor, ...]:
        outputs, ctx.intermediates = forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh)
        ctx.mode = mode
        ctx.save_for_backward(x, h0, w_ih, w_hh, outputs[0])
        return outputs

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, dout: Tensor, dh: Tensor, dc: Tensor | None = None) -> tuple:
        x, h0, w_ih, w_hh, out = ctx.saved_tensors
        _, need_x, need_h0, need_c0, need_w_ih, need_w_hh, need_b_ih, need_b_hh = \
            ctx.needs_input_grad
        dout, mode, saved, dc0 = dout.contiguous(), ctx.mode, ctx.intermediates, None
        if mode == "LSTM" and kernel.applies(dout, *saved):
            # the compiled loops also return the weight and bias gradients
            need_w = need_w_ih or need_w_hh or need_b_ih or need_b_hh
            dg, dh0, dc0, dw_ih, dw_hh, db = kernel.lstm_backward(
                dout, dh, dc, *saved, w_hh, x, h0, out, need_h0, need_w)
            dx = input_grads(need_x, False, False, dg.view(-1, dg.size(2)), x, w_ih)[0]
            db_hh = db.clone() if need_b_ih and need_b_hh else db  # each owns its .grad
            return (None, dx, dh0, dc0 if need_c0 else None, dw_ih if need_w_ih else None,
                    dw_hh if need_w_hh else None, db if need_b_ih else None,
                    db_hh if need_b_hh else None)
        if mode == "LSTM":
            dg, dh0, dc0 = cells.lstm_backward(dout, dh, dc, *saved, w_hh, need_h0)
        elif mode == "GRU":
            dg, dh0 = cells.gru_backward(dout, dh, out, h0, *saved, w_hh, need_h0)
        else:
            dg, dh0 = cells.rnn_backward(dout, dh, out, w_hh, mode == "RNN_RELU", need_h0)
        rows = w_hh.size(0)  # G*H
        dg = dg.view(-1, dg.size(2))  # (T*B, G*H), a GRU's (T*B, 4H) = [dr, dz, dG_hn, dn]
        shared_bias = mode != "GRU" and need_b_ih and need_b_hh  # then db_ih = db_hh
        dw_hh, db_hh = recurrent_grads(need_w_hh, need_b_hh or shared_bias, dg[:, :rows], h0,
                                       out)
        if mode == "GRU":
            dg[:, 2 * rows // 3:rows] = dg[:, rows:]  # dG_x: dn in place of dG_hn
        dx, dw_ih, db_ih = input_grads(need_x, need_w_ih, need_b_ih and not shared_bias,
                                       dg[:, :rows], x, w_ih)
        if shared_bias:  # a separate tensor: each parameter owns its .grad
            db_ih = db_hh.clone()
        return (None, dx, dh0, dc0 if need_c0 else None, dw_ih, dw_hh, db_ih,
                db_hh if need_b_hh else None)


def run_layer(x: Tensor, state: list[Tensor], w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
              b_hh: Tensor | None, mode: str) -> tuple[Tensor, list[Tensor]]:
    """One layer, one direction: x (T, B, I), state [h] / [h, c] (B, H) -> (T, B, H), state."""
    args = (x, state[0], state[1] if mode == "LSTM" else None, w_ih, w_hh, b_ih, b_hh)
    if torch.is_grad_enabled() and any(a is not None and a.requires_grad for a in args):
        out, *last = Layer.apply(mode, *args)
    else:  # nothing to differentiate: skip autograd's bookkeeping
        (out, *last), _ = forward(mode, *args, keep=False)
    return out, last


def build(config: RNNConfig) -> StackedRNN:
    return StackedRNN(config, run_layer)
