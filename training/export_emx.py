"""export_emx.py - convert PyTorch networks to `.emx` files (models/FORMAT.md).

    from export_emx import export, export_ensemble
    export(model, "net.emx", input_spec=dict(height=48, width=48, channels=1, mean=0.5,
           std=0.25), class_names=FERPLUS_CLASSES, meta={"name": "vgg-small"})
    export_ensemble([a, b], [2, 1], "ens.emx", input_spec=..., flip_tta=True)

How: the model is traced with torch.fx (symbolic_trace), run once on a dummy input to learn
every intermediate shape, and each graph node is translated into .emx ops over NHWC values.
The translation builds a small intermediate graph on which two passes run before writing:
BatchNorm2d is folded into the convolution before it, and an activation is fused into the
CONV2D / DENSE / ADD that produces its input when nothing else reads that value. A softmax is
appended unless the model already ends in one, so output 0 is always class probabilities.

Supported (module, function and method forms): Conv2d (any kernel, stride, padding incl.
'same'/'valid', dilation, groups), BatchNorm2d (folded), ReLU, ReLU6 / Hardtanh(0, 6), SiLU,
Hardswish, Sigmoid, MaxPool2d (ceil_mode), AvgPool2d (ceil_mode, count_include_pad),
AdaptiveAvgPool2d / mean over (2, 3) -> GLOBAL_AVGPOOL, flatten / view / reshape, Linear,
add, cat(dim=1), x * s with s of shape [N, C, 1, 1], Dropout / Identity (skipped), softmax,
flip(dims=[3]), interpolate(mode='bilinear', align_corners=False). Anything else raises
UnsupportedOpError naming the node. Inputs are traced at batch size 1.
"""
from __future__ import annotations

import math
import operator
import os
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emx_format as ef  # noqa: E402

FERPLUS_CLASSES = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear",
                   "contempt"]


class ExportError(ValueError):
    """The model cannot be expressed in .emx v1."""


class UnsupportedOpError(ExportError):
    """A graph node has no .emx translation."""


# --------------------------------------------------------------------------------------------
# intermediate graph
# --------------------------------------------------------------------------------------------

_BN = "BN"            # pseudo op: folded away before writing
_INPUT = "INPUT"      # the subgraph's input
_ACT_SLOT = {ef.OP_CONV2D: 12, ef.OP_DENSE: 1, ef.OP_ADD: 0, ef.OP_ACTIVATION: 0}


class _Node:
    """One op of the intermediate graph. inputs are _Nodes; tensors are (name, float32 array)."""

    def __init__(self, type_, inputs=(), attrs=(), tensors=(), label="", bn=None):
        self.type = type_
        self.inputs: List[_Node] = list(inputs)
        self.attrs: List[int] = [int(a) for a in attrs]
        self.tensors: List[Tuple[str, np.ndarray]] = list(tensors)
        self.label = label
        self.bn = bn

    def __repr__(self):
        return f"<{ef.OP_NAMES.get(self.type, self.type)} {self.label}>"


class _Subgraph:
    """A translated network: nodes in topological order, reading `input`, producing `output`.
    Emitting it twice (flip TTA) shares its tensors."""

    def __init__(self):
        self.input = _Node(_INPUT, label="input")
        self.nodes: List[_Node] = []
        self.output: Optional[_Node] = None
        self.input_hw: Tuple[int, int] = (0, 0)

    def add(self, node: _Node) -> _Node:
        self.nodes.append(node)
        return node

    def users(self) -> Dict[int, List[_Node]]:
        u: Dict[int, List[_Node]] = {}
        for n in self.nodes:
            for i in n.inputs:
                u.setdefault(id(i), []).append(n)
        return u

    def _replace(self, old: _Node, new: _Node) -> None:
        for n in self.nodes:
            n.inputs = [new if i is old else i for i in n.inputs]
        if self.output is old:
            self.output = new
        self.nodes.remove(old)

    def fold_batchnorm(self) -> None:
        users = self.users()
        for bn in [n for n in self.nodes if n.type == _BN]:
            conv = bn.inputs[0]
            if conv.type != ef.OP_CONV2D or len(users.get(id(conv), [])) != 1 or \
                    conv is self.output:
                raise ExportError(
                    f"BatchNorm2d '{bn.label}' must directly follow a Conv2d whose output "
                    f"nothing else reads (it follows {conv!r}); fold it by hand or reorder")
            (wname, w), (bname, b) = conv.tensors
            w2, b2 = fold_bn(w, b, *bn.bn)
            conv.tensors = [(wname, w2), (bname, b2)]
            self._replace(bn, conv)
            users = self.users()

    def fuse_activations(self) -> None:
        users = self.users()
        for act in [n for n in self.nodes if n.type == ef.OP_ACTIVATION]:
            p = act.inputs[0]
            slot = _ACT_SLOT.get(p.type) if p.type != ef.OP_ACTIVATION else None
            if slot is None or p.attrs[slot] != ef.ACT_NONE or p is self.output or \
                    len(users.get(id(p), [])) != 1:
                continue
            p.attrs[slot] = act.attrs[0]
            self._replace(act, p)
            users = self.users()

    def prune(self) -> None:
        live = {id(self.output)}
        for n in reversed(self.nodes):
            if id(n) in live:
                live.update(id(i) for i in n.inputs)
        self.nodes = [n for n in self.nodes if id(n) in live]


def fold_bn(weight: np.ndarray, bias: np.ndarray, mean: np.ndarray, var: np.ndarray,
            gamma: np.ndarray, beta: np.ndarray, eps: float) -> Tuple[np.ndarray, np.ndarray]:
    """Folds an eval-mode BatchNorm after a conv into the conv's weight [OC, ...] and bias [OC].
    Computed in float64, returned as float32."""
    scale = np.asarray(gamma, np.float64) / np.sqrt(np.asarray(var, np.float64) + eps)
    w = np.asarray(weight, np.float64) * scale.reshape((-1,) + (1,) * (weight.ndim - 1))
    b = (np.asarray(bias, np.float64) - mean) * scale + beta
    return w.astype(np.float32), b.astype(np.float32)


class _Builder:
    """Accumulates ops and tensors of one .emx graph; emits subgraphs into it."""

    def __init__(self, fp16: bool):
        self.fp16 = fp16
        self.tensors: List[ef.Tensor] = []
        self.ops: List[ef.Op] = []
        self._tensor_ids: Dict[int, int] = {}
        self._keep: List[np.ndarray] = []

    def tensor(self, name: str, arr: np.ndarray, allow_fp16: bool = True) -> int:
        key = id(arr)
        if key not in self._tensor_ids:
            self._keep.append(arr)
            dtype = ef.DTYPE_F16 if (self.fp16 and allow_fp16) else ef.DTYPE_F32
            self._tensor_ids[key] = len(self.tensors)
            self.tensors.append(ef.Tensor(name, np.asarray(arr, np.float32), dtype))
        return self._tensor_ids[key]

    def op(self, type_: int, inputs: Sequence[int], attrs=(), tensors=()) -> int:
        self.ops.append(ef.Op(type_, list(inputs), [int(a) for a in attrs], list(tensors)))
        return len(self.ops)          # value id of its output

    def emit(self, g: _Subgraph, input_value: int, prefix: str = "") -> int:
        vid = {id(g.input): input_value}
        for n in g.nodes:
            tids = [self.tensor(prefix + name, arr) for name, arr in n.tensors]
            vid[id(n)] = self.op(n.type, [vid[id(i)] for i in n.inputs], n.attrs, tids)
        return vid[id(g.output)]


# --------------------------------------------------------------------------------------------
# torch.fx translation
# --------------------------------------------------------------------------------------------

class _T:
    """A tensor of the traced model: the intermediate node holding its data as H x W x C, the
    (C, H, W) shape of that value, and whether the torch tensor is its flattening ([N, C*H*W]
    or [C*H*W], in C, H, W order, which matters to a following Linear)."""

    def __init__(self, node: _Node, chw: Tuple[int, int, int], flat: bool = False):
        self.node, self.chw, self.flat = node, tuple(int(v) for v in chw), flat


class _Py:
    """A Python value computed from shapes (x.size(0), x.shape, ...)."""

    def __init__(self, value):
        self.value = value


class _Recorder(torch.fx.Interpreter):
    def __init__(self, gm):
        super().__init__(gm)
        self.results: Dict[torch.fx.Node, Any] = {}

    def run_node(self, n):
        r = super().run_node(n)
        self.results[n] = r
        return r


def _fname(target) -> str:
    if isinstance(target, str):
        return target
    mod = getattr(target, "__module__", None) or ""
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", repr(target))
    return f"{mod}.{name}" if mod else name


_F_RELU = {F.relu, torch.relu, getattr(torch, "relu_", None), getattr(F, "relu_", None)}
_F_ACTS = {
    **{f: ef.ACT_RELU for f in _F_RELU if f is not None},
    F.relu6: ef.ACT_RELU6,
    F.silu: ef.ACT_SILU,
    F.hardswish: ef.ACT_HARDSWISH,
    torch.sigmoid: ef.ACT_SIGMOID,
}
if getattr(F, "sigmoid", None) is not None:      # deprecated alias of torch.sigmoid
    _F_ACTS[F.sigmoid] = ef.ACT_SIGMOID
_M_ACTS = {"relu": ef.ACT_RELU, "relu_": ef.ACT_RELU, "sigmoid": ef.ACT_SIGMOID,
           "sigmoid_": ef.ACT_SIGMOID}
_RESHAPE_FUNCS = {torch.flatten, torch.reshape, torch.squeeze, torch.unsqueeze}
_RESHAPE_METHODS = {"view", "reshape", "flatten", "squeeze", "unsqueeze", "contiguous",
                    "view_as", "reshape_as"}
_IDENTITY_MODULES = tuple(getattr(nn, k) for k in ("Dropout", "Dropout1d", "Dropout2d",
                                                    "AlphaDropout", "Identity")
                          if hasattr(nn, k))


def _pair(v) -> Tuple[int, int]:
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return int(v[0]), int(v[0])
        return int(v[0]), int(v[1])
    return int(v), int(v)


def _bind(node: torch.fx.Node, names: Sequence[str], defaults: Dict[str, Any]) -> Dict[str, Any]:
    """Positional + keyword arguments of a call node, by name (first name = the input)."""
    out = dict(defaults)
    for name, a in zip(names, node.args):
        out[name] = a
    for k, v in node.kwargs.items():
        out[k] = v
    return out


class _Translator:
    def __init__(self, model: nn.Module, in_chw: Tuple[int, int, int]):
        self.model = model
        self.in_chw = in_chw
        try:
            self.gm = torch.fx.symbolic_trace(model)
        except Exception as e:  # noqa: BLE001 - fx raises many kinds
            raise ExportError(f"torch.fx could not trace {type(model).__name__}: {e}") from e
        rec = _Recorder(self.gm)
        p = next(model.parameters(), None)
        dummy = torch.zeros((1,) + tuple(in_chw))
        if p is not None:
            dummy = dummy.to(device=p.device, dtype=p.dtype)
        try:
            with torch.no_grad():
                rec.run(dummy)
        except Exception as e:  # noqa: BLE001
            raise ExportError(f"running {type(model).__name__} on a {list(dummy.shape)} input "
                              f"failed: {e}") from e
        self.results = rec.results
        self.g = _Subgraph()
        self.g.input_hw = in_chw[1:]
        self.env: Dict[torch.fx.Node, Any] = {}

    # ---- helpers ----
    def _desc(self, n: torch.fx.Node) -> str:
        if n.op == "call_module":
            return f"call_module '{n.target}' ({type(self.gm.get_submodule(n.target)).__name__})"
        if n.op == "call_method":
            return f"call_method '.{n.target}()'"
        return f"{n.op} {_fname(n.target)}"

    def _unsupported(self, n: torch.fx.Node, why: str = "") -> UnsupportedOpError:
        return UnsupportedOpError(f"node '{n.name}': {self._desc(n)} is not supported by the "
                                  f".emx exporter{': ' + why if why else ''}")

    def _val(self, a):
        """fx argument -> translated value (recursing into lists/tuples)."""
        if isinstance(a, torch.fx.Node):
            return self.env[a]
        if isinstance(a, (list, tuple)):
            return type(a)(self._val(x) for x in a)
        return a

    def _tensor(self, n: torch.fx.Node, a) -> _T:
        v = self._val(a)
        if not isinstance(v, _T):
            raise self._unsupported(n, "expected a tensor argument")
        return v

    def _py(self, n: torch.fx.Node, a):
        """A non-tensor argument as a plain Python value."""
        v = self._val(a)
        if isinstance(v, _T):
            raise self._unsupported(n, "a tensor where a constant was expected")
        if isinstance(v, _Py):
            return v.value
        if isinstance(v, (list, tuple)):
            return type(v)(x.value if isinstance(x, _Py) else x for x in v)
        return v

    def _shape(self, n: torch.fx.Node) -> Tuple[int, ...]:
        return tuple(self.results[n].shape)

    def _out4(self, n: torch.fx.Node) -> Tuple[int, int, int]:
        s = self._shape(n)
        if len(s) != 4 or s[0] != 1:
            raise self._unsupported(n, f"unexpected output shape {list(s)}")
        return s[1], s[2], s[3]

    def _spatial(self, n: torch.fx.Node, x: _T) -> _T:
        if x.flat:
            raise self._unsupported(n, "expects an N x C x H x W tensor, got a flattened one")
        return x

    def _new(self, n, type_, inputs, attrs=(), tensors=(), chw=None, flat=False, **kw) -> _T:
        node = self.g.add(_Node(type_, [i.node for i in inputs], attrs, tensors, label=n.name,
                                **kw))
        return _T(node, chw if chw is not None else self._out4(n), flat)

    # ---- main loop ----
    def run(self) -> _Subgraph:
        placeholders = [n for n in self.gm.graph.nodes if n.op == "placeholder"]
        if len(placeholders) != 1:
            raise ExportError(f"the model must take exactly one input, it takes "
                              f"{len(placeholders)}")
        for n in self.gm.graph.nodes:
            if n.op == "placeholder":
                self.env[n] = _T(self.g.input, self.in_chw)
            elif n.op == "output":
                out = self._val(n.args[0])
                if not isinstance(out, _T):
                    raise ExportError("the model must return a single tensor (the logits or "
                                      "probabilities)")
                self.g.output = out.node
                self.out = out
            elif n.op == "get_attr":
                self.env[n] = ("get_attr", n.target)
            else:
                self.env[n] = self._translate(n)
        return self.g

    def _translate(self, n: torch.fx.Node):
        r = self.results[n]
        if not isinstance(r, torch.Tensor):
            return self._python(n, r)
        if r.dtype not in (torch.float32, torch.float64):
            raise self._unsupported(n, f"produces a {r.dtype} tensor")
        if n.op == "call_module":
            return self._module(n, self.gm.get_submodule(n.target))
        if n.op == "call_function":
            return self._function(n)
        if n.op == "call_method":
            return self._method(n)
        raise self._unsupported(n)

    def _python(self, n, r):
        """Shape arithmetic (x.size(0), x.shape[1], ...) is allowed; anything else that turns
        tensor data into a Python value (x.item(), ...) is refused."""
        args = list(n.args) + list(n.kwargs.values())
        tensor_in = any(isinstance(self.env.get(a), _T) for a in args
                        if isinstance(a, torch.fx.Node))
        shape_op = (n.op == "call_method" and n.target in ("size", "dim")) or \
                   (n.op == "call_function" and n.target is getattr and
                    len(n.args) > 1 and n.args[1] == "shape")
        if tensor_in and not shape_op:
            raise self._unsupported(n, "turns tensor data into a Python value")
        if isinstance(r, (tuple, list)) and any(isinstance(x, torch.Tensor) for x in r):
            raise self._unsupported(n, "returns several tensors")
        return _Py(r)

    # ---- call_module ----
    def _module(self, n, m: nn.Module):
        if isinstance(m, _IDENTITY_MODULES):
            return self._tensor(n, n.args[0])
        if isinstance(m, nn.Conv2d):
            return self._conv(n, m, self._tensor(n, n.args[0]))
        if isinstance(m, nn.BatchNorm2d):
            x = self._spatial(n, self._tensor(n, n.args[0]))
            if m.running_mean is None or m.running_var is None:
                raise self._unsupported(n, "BatchNorm2d without running statistics")
            C = m.num_features
            gamma = m.weight.detach().double().cpu().numpy() if m.affine else np.ones(C)
            beta = m.bias.detach().double().cpu().numpy() if m.affine else np.zeros(C)
            bn = (m.running_mean.detach().double().cpu().numpy(),
                  m.running_var.detach().double().cpu().numpy(), gamma, beta, float(m.eps))
            return self._new(n, _BN, [x], bn=bn, chw=x.chw)
        if isinstance(m, nn.Linear):
            return self._linear(n, m, self._tensor(n, n.args[0]))
        if isinstance(m, nn.ReLU):
            return self._act(n, ef.ACT_RELU)
        if isinstance(m, nn.ReLU6):
            return self._act(n, ef.ACT_RELU6)
        if isinstance(m, nn.Hardtanh) and m.min_val == 0.0 and m.max_val == 6.0:
            return self._act(n, ef.ACT_RELU6)
        if isinstance(m, nn.SiLU):
            return self._act(n, ef.ACT_SILU)
        if isinstance(m, nn.Hardswish):
            return self._act(n, ef.ACT_HARDSWISH)
        if isinstance(m, nn.Sigmoid):
            return self._act(n, ef.ACT_SIGMOID)
        if isinstance(m, nn.MaxPool2d):
            if m.return_indices:
                raise self._unsupported(n, "return_indices=True")
            return self._maxpool(n, n.args[0], m.kernel_size, m.stride, m.padding, m.dilation,
                                 m.ceil_mode)
        if isinstance(m, nn.AvgPool2d):
            return self._avgpool(n, n.args[0], m.kernel_size, m.stride, m.padding, m.ceil_mode,
                                 m.count_include_pad, m.divisor_override)
        if isinstance(m, nn.AdaptiveAvgPool2d):
            return self._adaptive_avg(n, self._tensor(n, n.args[0]))
        if isinstance(m, nn.Flatten):
            return self._reshape(n, self._tensor(n, n.args[0]))
        if isinstance(m, nn.Softmax):
            return self._softmax(n, self._tensor(n, n.args[0]), m.dim)
        if isinstance(m, nn.Upsample):
            return self._interpolate(n, self._tensor(n, n.args[0]), m.mode, m.align_corners,
                                     m.scale_factor, getattr(m, "recompute_scale_factor", None),
                                     False)
        raise self._unsupported(n)

    # ---- call_function ----
    def _function(self, n):
        f = n.target
        if f in _F_ACTS:
            return self._act(n, _F_ACTS[f])
        if f is F.hardtanh:
            a = _bind(n, ["input", "min_val", "max_val"], {"min_val": -1.0, "max_val": 1.0})
            if (a["min_val"], a["max_val"]) == (0.0, 6.0):
                return self._act(n, ef.ACT_RELU6)
            raise self._unsupported(n, "only hardtanh(0, 6) (ReLU6)")
        if f is F.dropout or f is getattr(F, "dropout2d", None):
            a = _bind(n, ["input", "p", "training"], {"training": True})
            if a["training"]:
                raise self._unsupported(n, "dropout traced with training=True")
            return self._tensor(n, n.args[0])
        if f in (operator.add, operator.iadd, torch.add):
            a = _bind(n, ["input", "other"], {"alpha": 1})
            if a["alpha"] != 1:
                raise self._unsupported(n, "add with alpha != 1")
            return self._add(n, a["input"], a["other"])
        if f in (operator.mul, operator.imul, torch.mul):
            return self._mul(n, n.args[0], n.args[1])
        if f is torch.cat:
            a = _bind(n, ["tensors", "dim"], {"dim": 0})
            return self._cat(n, a["tensors"], a["dim"])
        if f is torch.flip:
            a = _bind(n, ["input", "dims"], {})
            return self._flip(n, a["input"], a["dims"])
        if f is torch.mean:
            a = _bind(n, ["input", "dim", "keepdim"], {"dim": None, "keepdim": False})
            return self._mean(n, a["input"], a["dim"], a["keepdim"])
        if f is F.adaptive_avg_pool2d:
            return self._adaptive_avg(n, self._tensor(n, n.args[0]))
        if f is F.max_pool2d:
            a = _bind(n, ["input", "kernel_size", "stride", "padding", "dilation",
                          "ceil_mode", "return_indices"],
                      {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False,
                       "return_indices": False})
            if a["return_indices"]:
                raise self._unsupported(n, "return_indices=True")
            return self._maxpool(n, a["input"], a["kernel_size"], a["stride"],
                                 a["padding"], a["dilation"], a["ceil_mode"])
        if f is F.avg_pool2d:
            a = _bind(n, ["input", "kernel_size", "stride", "padding", "ceil_mode",
                          "count_include_pad", "divisor_override"],
                      {"stride": None, "padding": 0, "ceil_mode": False,
                       "count_include_pad": True, "divisor_override": None})
            return self._avgpool(n, a["input"], a["kernel_size"], a["stride"],
                                 a["padding"], a["ceil_mode"], a["count_include_pad"],
                                 a["divisor_override"])
        if f in (F.softmax, torch.softmax):
            a = _bind(n, ["input", "dim"], {"dim": None})
            return self._softmax(n, self._tensor(n, a["input"]), a["dim"])
        if f is F.interpolate:
            a = _bind(n, ["input", "size", "scale_factor", "mode", "align_corners",
                          "recompute_scale_factor", "antialias"],
                      {"size": None, "scale_factor": None, "mode": "nearest",
                       "align_corners": None, "recompute_scale_factor": None,
                       "antialias": False})
            return self._interpolate(n, self._tensor(n, a["input"]), a["mode"],
                                     a["align_corners"], a["scale_factor"],
                                     a["recompute_scale_factor"], a["antialias"])
        if f in _RESHAPE_FUNCS:
            return self._reshape(n, self._tensor(n, n.args[0]))
        if f is operator.getitem:
            idx = n.args[1] if isinstance(n.args[1], tuple) else (n.args[1],)
            if all(i is None or i is Ellipsis or i == slice(None) for i in idx):
                return self._reshape(n, self._tensor(n, n.args[0]))
            raise self._unsupported(n, "only x[:, :, None, None]-style indexing (no slicing)")
        raise self._unsupported(n)

    # ---- call_method ----
    def _method(self, n):
        name = n.target
        if name in _M_ACTS:
            return self._act(n, _M_ACTS[name])
        if name in _RESHAPE_METHODS:
            return self._reshape(n, self._tensor(n, n.args[0]))
        if name in ("add", "add_"):
            a = _bind(n, ["input", "other"], {"alpha": 1})
            if a["alpha"] != 1:
                raise self._unsupported(n, "add with alpha != 1")
            return self._add(n, a["input"], a["other"])
        if name in ("mul", "mul_"):
            return self._mul(n, n.args[0], n.args[1])
        if name == "mean":
            a = _bind(n, ["input", "dim", "keepdim"], {"dim": None, "keepdim": False})
            return self._mean(n, a["input"], a["dim"], a["keepdim"])
        if name == "flip":
            dims = n.args[1] if len(n.args) == 2 else n.args[1:]
            return self._flip(n, n.args[0], n.kwargs.get("dims", dims))
        if name == "softmax":
            a = _bind(n, ["input", "dim"], {"dim": None})
            return self._softmax(n, self._tensor(n, a["input"]), a["dim"])
        if name in ("expand_as", "expand"):
            # s.expand_as(x) with s of shape [N, C, 1, 1]: stays a 1x1 value, so a following
            # x * s becomes MUL_CHANNEL; ops that need the full size refuse it (window checks,
            # layout checks).
            x = self._spatial(n, self._tensor(n, n.args[0]))
            if x.chw[1:] != (1, 1) or self._out4(n)[0] != x.chw[0]:
                raise self._unsupported(n, "only expanding an [N, C, 1, 1] tensor over H, W")
            return x
        raise self._unsupported(n)

    # ---- op translations ----
    def _act(self, n, code: int) -> _T:
        x = self._tensor(n, n.args[0])
        return self._new(n, ef.OP_ACTIVATION, [x], [code], chw=x.chw, flat=x.flat)

    def _conv(self, n, m: nn.Conv2d, x: _T) -> _T:
        x = self._spatial(n, x)
        if m.padding_mode != "zeros":
            raise self._unsupported(n, f"padding_mode={m.padding_mode!r}")
        kh, kw = m.kernel_size
        sh, sw = m.stride
        dh, dw = m.dilation
        if isinstance(m.padding, str):
            if m.padding == "valid":
                pads = (0, 0, 0, 0)
            else:  # 'same': PyTorch puts the odd pixel at the bottom/right
                th, tw = dh * (kh - 1), dw * (kw - 1)
                pads = (th // 2, tw // 2, th - th // 2, tw - tw // 2)
        else:
            ph, pw = m.padding
            pads = (ph, pw, ph, pw)
        for p, ext in zip(pads, ((kh - 1) * dh + 1, (kw - 1) * dw + 1) * 2):
            if p >= ext:
                raise self._unsupported(n, f"padding {p} not smaller than the kernel extent "
                                           f"{ext} (.emx windows must overlap the input)")
        oc = m.out_channels
        w = m.weight.detach().float().cpu().numpy().copy()
        b = (m.bias.detach().float().cpu().numpy().copy() if m.bias is not None
             else np.zeros(oc, np.float32))
        attrs = [kh, kw, sh, sw, *pads, dh, dw, m.groups, oc, ef.ACT_NONE]
        out = self._new(n, ef.OP_CONV2D, [x], attrs,
                        [(f"{n.target}.weight", w), (f"{n.target}.bias", b)])
        self._check_window(n, x.chw, out.chw, (kh, kw), (sh, sw), pads, (dh, dw))
        return out

    def _check_window(self, n, in_chw, out_chw, k, s, pads, d=(1, 1)):
        for ax in range(2):
            ext = d[ax] * (k[ax] - 1) + 1
            o = (in_chw[1 + ax] + pads[ax] + pads[2 + ax] - ext) // s[ax] + 1
            if o != out_chw[1 + ax] or pads[ax] >= ext or pads[2 + ax] >= ext:
                raise ExportError(f"node '{n.name}': cannot express its window in .emx "
                                  f"(in {in_chw}, out {out_chw}, pads {pads})")

    def _linear(self, n, m: nn.Linear, x: _T) -> _T:
        C, H, W = x.chw
        if not x.flat and H * W != 1:
            raise self._unsupported(n, "Linear over a 4-D tensor: flatten it first")
        if len(self._shape(n)) > 2:
            raise self._unsupported(n, "Linear over a 4-D tensor: flatten it first")
        w = m.weight.detach().float().cpu().numpy()
        if w.shape[1] != C * H * W:
            raise ExportError(f"node '{n.name}': Linear expects {w.shape[1]} inputs, gets "
                              f"{C * H * W}")
        if H * W > 1:  # torch flattens C, H, W; .emx flattens H, W, C
            w = w.reshape(-1, C, H, W).transpose(0, 2, 3, 1).reshape(w.shape[0], -1)
        w = np.ascontiguousarray(w, np.float32).copy()
        b = (m.bias.detach().float().cpu().numpy().copy() if m.bias is not None
             else np.zeros(m.out_features, np.float32))
        return self._new(n, ef.OP_DENSE, [x], [m.out_features, ef.ACT_NONE],
                         [(f"{n.target}.weight", w), (f"{n.target}.bias", b)],
                         chw=(m.out_features, 1, 1), flat=True)

    def _maxpool(self, n, x, k, s, p, d, ceil_mode) -> _T:
        x = self._spatial(n, self._tensor(n, x))
        k, s, p, d = (self._py(n, v) for v in (k, s, p, d))
        k = _pair(k)
        s = _pair(s) if s not in (None, (), []) else k
        p = _pair(p)
        if _pair(d) != (1, 1):
            raise self._unsupported(n, "max pooling with dilation")
        C, H, W = x.chw
        _, OH, OW = out = self._out4(n)
        pads = (p[0], p[1],
                max(p[0], (OH - 1) * s[0] + k[0] - H - p[0]),
                max(p[1], (OW - 1) * s[1] + k[1] - W - p[1]))
        self._check_window(n, x.chw, out, k, s, pads)
        return self._new(n, ef.OP_MAXPOOL2D, [x], [*k, *s, *pads])

    def _avgpool(self, n, x, k, s, p, ceil_mode, count_include_pad, divisor_override) -> _T:
        x = self._spatial(n, self._tensor(n, x))
        k, s, p, count_include_pad, divisor_override = (
            self._py(n, v) for v in (k, s, p, count_include_pad, divisor_override))
        if divisor_override:
            raise self._unsupported(n, "divisor_override")
        k = _pair(k)
        s = _pair(s) if s not in (None, (), []) else k
        p = _pair(p)
        C, H, W = x.chw
        _, OH, OW = out = self._out4(n)
        extra = (max(0, (OH - 1) * s[0] + k[0] - H - 2 * p[0]),
                 max(0, (OW - 1) * s[1] + k[1] - W - 2 * p[1]))
        pads = (p[0], p[1], p[0] + extra[0], p[1] + extra[1])
        if not count_include_pad:
            cip = 0
        elif extra == (0, 0):
            cip = 1          # every window lies inside the padded input: divide by kh*kw
        elif p == (0, 0):
            cip = 0          # PyTorch divides by the in-bounds part of overhanging windows
        else:
            raise self._unsupported(n, "ceil_mode windows overhanging a zero-padded input "
                                       "with count_include_pad=True")
        self._check_window(n, x.chw, out, k, s, pads)
        return self._new(n, ef.OP_AVGPOOL2D, [x], [*k, *s, *pads, cip])

    def _adaptive_avg(self, n, x: _T) -> _T:
        x = self._spatial(n, x)
        C, H, W = x.chw
        out = self._out4(n)
        if out[1:] == (1, 1):
            return self._new(n, ef.OP_GLOBAL_AVGPOOL, [x], chw=(C, 1, 1))
        if out[1:] == (H, W):
            return x
        if H % out[1] == 0 and W % out[2] == 0:
            kh, kw = H // out[1], W // out[2]
            return self._new(n, ef.OP_AVGPOOL2D, [x], [kh, kw, kh, kw, 0, 0, 0, 0, 1])
        raise self._unsupported(n, f"adaptive pooling {H}x{W} -> {out[1]}x{out[2]}")

    def _mean(self, n, a, dim, keepdim) -> _T:
        x = self._spatial(n, self._tensor(n, a))
        dim, keepdim = self._py(n, dim), self._py(n, keepdim)
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        if dim is None or sorted(int(d) % 4 for d in dims) != [2, 3]:
            raise self._unsupported(n, "only mean over dims (2, 3)")
        C = x.chw[0]
        return self._new(n, ef.OP_GLOBAL_AVGPOOL, [x], chw=(C, 1, 1), flat=not keepdim)

    def _reshape(self, n, x: _T) -> _T:
        C, H, W = x.chw
        shape = self._shape(n)
        size = int(np.prod(shape))
        if size != C * H * W:
            raise self._unsupported(n, f"changes the element count ({C * H * W} -> {size})")
        if len(shape) == 4 and shape[0] == 1:
            if tuple(shape[1:]) == (C, H, W):      # identity, or undoing a flatten
                return _T(x.node, x.chw, flat=False)
        elif len(shape) == 1 or (len(shape) == 2 and shape[0] == 1):
            return _T(x.node, x.chw, flat=True)
        raise self._unsupported(n, f"reshape of a {C}x{H}x{W} value (flat={x.flat}) to "
                                   f"{list(shape)}")

    def _same_layout(self, n, a: _T, b: _T) -> None:
        if a.chw != b.chw or a.flat != b.flat:
            raise self._unsupported(n, f"operands of different shapes ({a.chw}, {b.chw}): "
                                       "broadcasting is not supported")

    def _add(self, n, a, b) -> _T:
        va, vb = self._val(a), self._val(b)
        if not (isinstance(va, _T) and isinstance(vb, _T)):
            raise self._unsupported(n, "adding a constant")
        self._same_layout(n, va, vb)
        return self._new(n, ef.OP_ADD, [va, vb], [ef.ACT_NONE], chw=va.chw, flat=va.flat)

    def _mul(self, n, a, b) -> _T:
        va, vb = self._val(a), self._val(b)
        if not (isinstance(va, _T) and isinstance(vb, _T)):
            raise self._unsupported(n, "multiplying by a constant")
        if va.chw[1:] == (1, 1) and vb.chw[1:] != (1, 1):
            va, vb = vb, va
        if va.chw[0] != vb.chw[0] or vb.chw[1:] != (1, 1) or va.flat != vb.flat:
            raise self._unsupported(n, "only x * s with s of shape [N, C, 1, 1] (per-channel "
                                       "scale, as in squeeze-excitation)")
        return self._new(n, ef.OP_MUL_CHANNEL, [va, vb], chw=va.chw, flat=va.flat)

    def _cat(self, n, tensors, dim) -> _T:
        xs = [self._tensor(n, t) for t in tensors]
        dim = self._py(n, dim)
        if len(xs) == 1:
            return xs[0]
        if len(xs) > 16:
            raise self._unsupported(n, "concatenation of more than 16 tensors")
        nd = len(self._shape(n))
        flat = xs[0].flat
        if any(x.flat != flat for x in xs) or int(dim) % nd != nd - (1 if flat else 3):
            raise self._unsupported(n, "only concatenation along channels (dim=1)")
        if flat and any(x.chw[1:] != (1, 1) for x in xs):
            raise self._unsupported(n, "concatenation of flattened feature maps")
        if len({x.chw[1:] for x in xs}) != 1:
            raise self._unsupported(n, "concatenated tensors differ in H, W")
        C = sum(x.chw[0] for x in xs)
        return self._new(n, ef.OP_CONCAT, xs, chw=(C,) + xs[0].chw[1:], flat=flat)

    def _flip(self, n, a, dims) -> _T:
        x = self._spatial(n, self._tensor(n, a))
        dims = self._py(n, dims)
        dims = list(dims) if isinstance(dims, (tuple, list)) else [dims]
        if [int(d) % 4 for d in dims] != [3]:
            raise self._unsupported(n, "only flips along the width (dims=[3])")
        return self._new(n, ef.OP_FLIP_W, [x], chw=x.chw)

    def _softmax(self, n, x: _T, dim) -> _T:
        C, H, W = x.chw
        dim = self._py(n, dim)
        nd = len(self._shape(n))
        if H * W != 1 or (dim is not None and int(dim) % nd != (nd - 1 if x.flat else 1)):
            raise self._unsupported(n, "softmax only over the class vector")
        return self._new(n, ef.OP_SOFTMAX, [x], chw=x.chw, flat=x.flat)

    def _interpolate(self, n, x: _T, mode, align_corners, scale_factor, recompute,
                     antialias) -> _T:
        x = self._spatial(n, x)
        mode, align_corners, scale_factor, recompute, antialias = (
            self._py(n, v) for v in (mode, align_corners, scale_factor, recompute, antialias))
        if mode != "bilinear" or align_corners or antialias:
            raise self._unsupported(n, "only mode='bilinear', align_corners=False, "
                                       "antialias=False")
        C, H, W = x.chw
        _, OH, OW = self._out4(n)
        if scale_factor is not None and not recompute:
            sf = (tuple(scale_factor) if isinstance(scale_factor, (tuple, list))
                  else (scale_factor, scale_factor))
            for i, o, f in ((H, OH, sf[0]), (W, OW, sf[1])):
                if abs(1.0 / float(f) - i / o) > 1e-9:
                    raise self._unsupported(n, f"scale_factor {f} maps {i} -> {o} pixels "
                                               "inexactly: pass size= or "
                                               "recompute_scale_factor=True")
        return self._new(n, ef.OP_RESIZE_BILINEAR, [x], [OH, OW])


def _translate(model: nn.Module, in_chw: Tuple[int, int, int], n_classes: int) -> _Subgraph:
    was_training = model.training
    model.eval()
    try:
        t = _Translator(model, in_chw)
        g = t.run()
    finally:
        model.train(was_training)
    out = t.out
    C, H, W = out.chw
    if C * H * W != n_classes or H * W != 1:
        raise ExportError(f"the model outputs {C}x{H}x{W} values but there are {n_classes} "
                          "classes")
    if g.output is g.input:
        raise ExportError("the model does nothing")
    g.fold_batchnorm()
    g.fuse_activations()
    if g.output.type != ef.OP_SOFTMAX:
        g.output = g.add(_Node(ef.OP_SOFTMAX, [g.output], label="softmax"))
    g.prune()
    return g


def _spec(input_spec: Optional[dict]) -> ef.InputSpec:
    d = dict(height=48, width=48, channels=1, mean=0.0, std=1.0)
    d.update(input_spec or {})
    return ef.InputSpec(int(d["height"]), int(d["width"]), int(d["channels"]),
                        float(d["mean"]), float(d["std"]))


def _meta(meta: Optional[dict]) -> List[Tuple[str, str]]:
    return [(str(k), str(v)) for k, v in (meta or {}).items()]


def convert(model: nn.Module, input_spec: Optional[dict] = None,
            class_names: Optional[Sequence[str]] = None, meta: Optional[dict] = None,
            fp16: bool = False) -> ef.EmxModel:
    """Translates `model` into an EmxModel (see export)."""
    spec = _spec(input_spec)
    classes = list(class_names or FERPLUS_CLASSES)
    g = _translate(model, (spec.channels, spec.height, spec.width), len(classes))
    b = _Builder(fp16)
    out = b.emit(g, 0)
    m = ef.EmxModel(spec, classes, b.tensors, b.ops, [out], _meta(meta))
    ef.check_model(m)
    return m


def export(model: nn.Module, path: str, input_spec: Optional[dict] = None,
           class_names: Optional[Sequence[str]] = None, meta: Optional[dict] = None,
           fp16: bool = False) -> ef.EmxModel:
    """Writes `model` as an .emx file at `path` and returns what was written.

    input_spec: dict(height, width, channels, mean, std) - how a 0..255 pixel p becomes
        (p / 255 - mean) / std; the model is traced at this size (batch 1).
    class_names: output order (default FERPLUS_CLASSES); must match the model's outputs.
    meta: string pairs for META (name, description, valid_accuracy, source, ...).
    fp16: store conv/dense weights as IEEE half (the reader widens them to fp32)."""
    m = convert(model, input_spec, class_names, meta, fp16)
    ef.write(m, path)
    return m


def _member_size(model: nn.Module, spec: ef.InputSpec) -> Tuple[int, int]:
    size = getattr(model, "input_size", None)
    if size is None:
        return spec.height, spec.width
    return _pair(size)


def convert_ensemble(models: Sequence[nn.Module], weights: Optional[Sequence[float]] = None,
                     input_spec: Optional[dict] = None,
                     class_names: Optional[Sequence[str]] = None,
                     meta: Optional[dict] = None, fp16: bool = False,
                     flip_tta: bool = False) -> ef.EmxModel:
    """Translates an ensemble into one EmxModel (see export_ensemble)."""
    if not models:
        raise ExportError("an ensemble needs at least one member")
    weights = [1.0] * len(models) if weights is None else [float(w) for w in weights]
    if len(weights) != len(models) or any(not (w >= 0) for w in weights) or sum(weights) <= 0:
        raise ExportError("one non-negative weight per member, not all zero")
    total = math.fsum(weights)
    weights = [w / total for w in weights]
    spec = _spec(input_spec)
    classes = list(class_names or FERPLUS_CLASSES)
    b = _Builder(fp16)
    branches: List[Tuple[int, float]] = []      # (probabilities value, weight)
    per_member: List[List[int]] = []
    for i, model in enumerate(models):
        h, w = _member_size(model, spec)
        g = _translate(model, (spec.channels, h, w), len(classes))
        src = 0
        if (h, w) != (spec.height, spec.width):
            src = b.op(ef.OP_RESIZE_BILINEAR, [0], [h, w])
        outs = [b.emit(g, src, prefix=f"m{i}.")]
        if flip_tta:
            outs.append(b.emit(g, b.op(ef.OP_FLIP_W, [src]), prefix=f"m{i}."))
        per_member.append(outs)
        branches += [(v, weights[i] / len(outs)) for v in outs]
    if len(branches) == 1:
        out = branches[0][0]
    elif len(branches) <= 16:
        wt = b.tensor("ensemble.weights", np.array([w for _, w in branches], np.float32),
                      allow_fp16=False)
        out = b.op(ef.OP_WEIGHTED_MEAN, [v for v, _ in branches], tensors=[wt])
    elif len(models) <= 16:
        avg = []
        for i, outs in enumerate(per_member):
            if len(outs) == 1:
                avg.append(outs[0])
                continue
            wt = b.tensor(f"m{i}.tta_weights", np.full(len(outs), 1 / len(outs), np.float32),
                          allow_fp16=False)
            avg.append(b.op(ef.OP_WEIGHTED_MEAN, outs, tensors=[wt]))
        wt = b.tensor("ensemble.weights", np.array(weights, np.float32), allow_fp16=False)
        out = b.op(ef.OP_WEIGHTED_MEAN, avg, tensors=[wt])
    else:
        raise ExportError("at most 16 ensemble members")
    m = ef.EmxModel(spec, classes, b.tensors, b.ops, [out], _meta(meta))
    ef.check_model(m)
    return m


def export_ensemble(models: Sequence[nn.Module], weights: Optional[Sequence[float]],
                    path: str, input_spec: Optional[dict] = None,
                    class_names: Optional[Sequence[str]] = None, meta: Optional[dict] = None,
                    fp16: bool = False, flip_tta: bool = False) -> ef.EmxModel:
    """Writes several models as ONE .emx graph: every member runs on the shared input (resized
    by RESIZE_BILINEAR when the member has an `input_size` attribute, int or (h, w), that
    differs from input_spec), and also on its left-right mirror when flip_tta; each branch
    ends in SOFTMAX, and WEIGHTED_MEAN combines them with `weights` normalised to sum to 1
    (a member's flipped and unflipped branches share its weight equally and its tensors)."""
    m = convert_ensemble(models, weights, input_spec, class_names, meta, fp16, flip_tta)
    ef.write(m, path)
    return m


if __name__ == "__main__":
    sys.exit("export_emx.py: use export() / export_ensemble() from Python; the checkpoint CLI "
             "comes with the training scripts' checkpoint format.")
