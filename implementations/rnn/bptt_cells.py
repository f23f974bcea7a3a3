"""The time loops of style `bptt`, one forward and one backward per cell (equations: bptt.py).

Forward receives the input projection of every step, (T, B, G*H), made by one GEMM before the
loop (bptt.py): step t's recurrent GEMM adds to its (B, G*H) slice in place and the gate
activations overwrite it, which backward needs. Backward carries only dh (and an LSTM's dc)
through the reversed loop, one GEMM per step, and returns the gate pre-activation gradients
of every step, dG, from which bptt.py computes every weight, bias and input gradient with
single GEMMs.

What keeps the per-step cost down on CPU, where one step's tensors are small (B*H = 8192
numbers at the MNIST shape) and each op's fixed cost matters:
- no per-step broadcasts, Python scalars, slices or temporaries: the per-step views come from
  one unbind() each, constants are full-size tensors, and the factors of dG that do not depend
  on the carried gradient are computed for all steps at once, before the loop, into the buffer
  that then receives dG in place;
- few large buffers, each written once (a fresh multi-MB buffer costs page faults on first
  touch, so the projection is reused for the activations and the factors for dG);
- tanh(a) = 2 sigmoid(2a) - 1, an identity, because ATen's sigmoid is ~3x faster than its tanh
  on CPU: bptt.py doubles the tanh gate's rows of W_ih, W_hh and the biases (exact in floating
  point) and the loop computes lerp(-1, 1, sigmoid(2a)) = 2 sigmoid(2a) - 1.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _signs(like: Tensor) -> tuple[Tensor, Tensor]:
    """Full-size -1 and +1 (B, H): lerp(-1, +1, s) = 2s - 1 without a broadcast."""
    return torch.full_like(like, -1.0), torch.ones_like(like)


def _history(like: Tensor, steps: int, keep: bool) -> Tensor:
    """(steps, *like.shape) for backward, or one buffer seen `steps` times (stride 0) when
    nothing will read the history: the loop then reuses one small, cache-hot buffer."""
    if keep:
        return like.new_empty(steps, *like.shape)
    return like.new_empty(like.shape).expand(steps, *like.shape)


def _affine(x: Tensor, w: Tensor, bias: Tensor | None, out: Tensor) -> Tensor:
    """out = x w (+ bias, already (B, N): no broadcast per step)."""
    if bias is None:
        return torch.mm(x, w, out=out)
    return torch.addmm(bias, x, w, out=out)


def _slope(s: Tensor, out: Tensor, tanh: bool = False) -> Tensor:
    """sigmoid' = s (1 - s), or tanh' = 1 - s^2, from the activation s, written into `out`."""
    if tanh:
        return torch.mul(s, s, out=out).neg_().add_(1)
    return torch.addcmul(s, s, s, value=-1, out=out)


def rnn_forward(gx: Tensor, h0: Tensor, w_hh: Tensor, relu: bool) -> Tensor:
    """gx (T, B, H) = 2a_x (tanh) or a_x (relu), w_hh scaled likewise -> out (T, B, H) (= gx)."""
    minus, plus = _signs(h0)
    w_t, h = w_hh.t(), h0
    for h_t in gx.unbind(0):
        h_t.addmm_(h, w_t)  # the pre-activation (doubled for tanh)
        if relu:
            h_t.relu_()
        else:
            torch.lerp(minus, plus, h_t.sigmoid_(), out=h_t)  # tanh
        h = h_t
    return gx


def rnn_backward(dout: Tensor, dh: Tensor, out: Tensor, w_hh: Tensor, relu: bool,
                 need_h0: bool) -> tuple[Tensor, Tensor | None]:
    """dout (T, B, H), dh = dL/dh_n (B, H) -> dG (T, B, H) = dL/da_t, dL/dh0 (B, H)."""
    # act'(a_t) from h_t for all t (tanh' = 1 - h^2, relu' = [h > 0]), then dG in its place
    dg = (out > 0).to(out.dtype) if relu else _slope(out, torch.empty_like(out), tanh=True)
    dgs, douts = dg.unbind(0), dout.unbind(0)
    dh = dh + douts[-1]  # the carry (B, H), a fresh buffer
    for t in range(out.size(0) - 1, 0, -1):
        torch.mul(dh, dgs[t], out=dgs[t])
        torch.addmm(douts[t - 1], dgs[t], w_hh, out=dh)  # dh_{t-1} = dout + dG_t W_hh
    dgs[0].mul_(dh)
    return dg, dgs[0] @ w_hh if need_h0 else None


def lstm_forward(gates: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor,
                 keep: bool = True) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """gates (T, B, 4H) = x W_ih^T + b (g doubled), w_hh likewise -> out (T, B, H), and for
    backward (if `keep`) gates overwritten with sigmoid i, f, tanh g, sigmoid o; cells
    (T+1, B, H) = c0 .. c_T; tanh_c (T, B, H)."""
    steps, batch, hidden = gates.size(0), gates.size(1), c0.size(-1)
    cells = _history(c0, steps + 1, keep)  # (T+1, B, H), cells[0] = c0
    cells[0] = c0
    tanh_c, out = _history(c0, steps, keep), c0.new_empty(steps, batch, hidden)
    scratch = torch.empty_like(c0)  # (B, H)
    minus, plus = _signs(c0)
    i, f, g, o = (part.unbind(0) for part in gates.unflatten(2, (4, -1)).unbind(2))
    c = cells.unbind(0)
    w_t, h = w_hh.t(), h0
    for t, (gates_t, tc_t, h_t) in enumerate(zip(gates.unbind(0), tanh_c.unbind(0),
                                                 out.unbind(0), strict=True)):
        # x_t W_ih^T + b + h W_hh^T, then i, f, o done; g is sigmoid(2 a_g)
        gates_t.addmm_(h, w_t).sigmoid_()
        torch.lerp(minus, plus, g[t], out=g[t])  # g = tanh(a_g)
        torch.mul(f[t], c[t], out=c[t + 1]).addcmul_(i[t], g[t])  # c_t = f c_{t-1} + i g
        torch.add(c[t + 1], c[t + 1], out=scratch).sigmoid_()
        torch.lerp(minus, plus, scratch, out=tc_t)  # tanh(c_t)
        h = torch.mul(o[t], tc_t, out=h_t)  # h_t = o tanh(c_t)
    return out, gates, cells, tanh_c


def lstm_backward(dout: Tensor, dh: Tensor, dc: Tensor, gates: Tensor, cells: Tensor,
                  tanh_c: Tensor, w_hh: Tensor,
                  need_h0: bool) -> tuple[Tensor, Tensor | None, Tensor]:
    """dout (T, B, H), dh, dc = dL/dh_n, dL/dc_n -> dG (T, B, 4H), dL/dh0, dL/dc0."""
    i, f, g, o = gates.unflatten(2, (4, -1)).unbind(2)  # (T, B, H) each
    # per step: dc += dh * k_c;  dG_{i,f,g} = dc * k[i, f, g];  dG_o = dh * k[o]
    k_c = _slope(tanh_c, torch.empty_like(tanh_c), tanh=True).mul_(o)  # o tanh'(c)
    dg = torch.empty_like(gates)  # (T, B, 4H): the factors k, then dG in their place
    k = dg.unflatten(2, (4, -1))  # (T, B, 4, H)
    _slope(i, k[:, :, 0]).mul_(g)
    _slope(f, k[:, :, 1]).mul_(cells[:-1])
    _slope(g, k[:, :, 2], tanh=True).mul_(i)
    _slope(o, k[:, :, 3]).mul_(tanh_c)
    dgs, dg_ifg, dg_o = dg.unbind(0), k[:, :, :3].unbind(0), k[:, :, 3].unbind(0)
    douts, k_cs, fs = dout.unbind(0), k_c.unbind(0), f.unbind(0)
    dh, dc = dh + douts[-1], dc.clone(memory_format=torch.contiguous_format)  # the carries
    dc_wide = dc.unsqueeze(1)  # (B, 1, H), a view of the carry
    for t in range(gates.size(0) - 1, -1, -1):
        dc.addcmul_(dh, k_cs[t])
        dg_ifg[t].mul_(dc_wide)
        dg_o[t].mul_(dh)
        dc.mul_(fs[t])  # dc_{t-1}
        if t:
            torch.addmm(douts[t - 1], dgs[t], w_hh, out=dh)
    return dg, dgs[0] @ w_hh if need_h0 else None, dc


def gru_forward(gates: Tensor, h0: Tensor, w_hh: Tensor, b_h: Tensor | None,
                keep: bool = True) -> tuple[Tensor, Tensor, Tensor]:
    """gates (T, B, 3H) = x W_ih^T + b_ih + [b_hr, b_hz, 0] (n block doubled), w_hh and
    b_h = [0, 0, b_hn] likewise -> out (T, B, H), and for backward gates overwritten with
    sigmoid r, z, tanh n; gh (T, B, 3H) = W_hh h + b_h (n block doubled), if `keep`."""
    steps, batch, hidden = gates.size(0), gates.size(1), h0.size(-1)
    gh, out = _history(gates[0], steps, keep), h0.new_empty(steps, batch, hidden)
    minus, plus = _signs(h0)
    b_h = None if b_h is None else b_h.expand(batch, -1).contiguous()  # (B, 3H)
    rz, r, z, n = (part.unbind(0) for part in (gates[..., :2 * hidden],
                                               *gates.split(hidden, 2)))
    gh_rz, gh_n = (part.unbind(0) for part in gh.split([2 * hidden, hidden], dim=2))
    w_t, h = w_hh.t(), h0
    for t, (gh_t, h_t) in enumerate(zip(gh.unbind(0), out.unbind(0), strict=True)):
        _affine(h, w_t, b_h, gh_t)
        rz[t].add_(gh_rz[t]).sigmoid_()  # r, z
        n[t].addcmul_(r[t], gh_n[t]).sigmoid_()  # sigmoid(2 a_n)
        torch.lerp(minus, plus, n[t], out=n[t])  # n = tanh(a_n)
        h = torch.lerp(n[t], h, z[t], out=h_t)  # h_t = n + z (h_{t-1} - n)
    return out, gates, gh


def gru_backward(dout: Tensor, dh: Tensor, out: Tensor, h0: Tensor, gates: Tensor,
                 gh: Tensor, w_hh: Tensor, need_h0: bool) -> tuple[Tensor, Tensor | None]:
    """dout (T, B, H), dh = dL/dh_n -> dG (T, B, 4H) = [dr, dz, dG_hn, dn] and dL/dh0: its
    first 3H columns are dL/d(W_hh h + b_hh); with dn in place of dG_hn, dL/d(W_ih x + b_ih)."""
    hidden = h0.size(-1)
    r, z, n = gates.split(hidden, dim=2)  # (T, B, H) each
    dg = gates.new_empty(*gates.shape[:2], 4 * hidden)  # (T, B, 4H)
    k_r, k_z, dg_hn, k_n = dg.split(hidden, dim=2)  # the factors, then dG in their place
    # per step: dn = dh k_n;  dr = dn k_r;  dz = dh k_z;  dG_hn = dn r
    _slope(z, k_z)[1:].mul_(torch.sub(out[:-1], n[1:], out=k_n[1:]))  # z' (h_{t-1} - n_t)
    k_z[0].mul_(h0 - n[0])  # h_{-1} = h0
    _slope(n, k_n, tanh=True).mul_(torch.neg(z, out=dg_hn).add_(1))  # (1 - z)(1 - n^2)
    _slope(r, k_r).mul_(gh[..., 2 * hidden:]).mul_(0.5)  # r' (W_hn h + b_hn), undoubled
    drs, dzs, dhns, dns, dgs = (v.unbind(0) for v in (k_r, k_z, dg_hn, k_n,
                                                      dg[..., :3 * hidden]))
    rs, zs, douts = r.unbind(0), z.unbind(0), dout.unbind(0)
    dh = dh + douts[-1]  # the carry (B, H), a fresh buffer
    for t in range(gates.size(0) - 1, -1, -1):
        dns[t].mul_(dh)
        drs[t].mul_(dns[t])
        dzs[t].mul_(dh)
        torch.mul(dns[t], rs[t], out=dhns[t])
        if t:  # dh_{t-1} = dout_{t-1} + dh z + dG_h W_hh
            torch.addcmul(douts[t - 1], dh, zs[t], out=dh).addmm_(dgs[t], w_hh)
        elif need_h0:
            dh.mul_(zs[0]).addmm_(dgs[0], w_hh)
    return dg, dh if need_h0 else None
