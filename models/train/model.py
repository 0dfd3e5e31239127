"""Small CNN plate reader, fast-plate-ocr convention.

Input  "input": uint8 NHWC [N, 64, 128, 3] (RGB). Cast + /255 happen inside the graph.
Output "plate": float32 [N, 10, 37] softmax probabilities per slot over
"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_" ("_" = pad, text left-aligned).
"""
import torch
import torch.nn as nn

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
PAD = "_"
SLOTS = 10
H, W = 64, 128


def cbr(cin, cout, k=3, s=1, pad=None):
    """Conv + BN + ReLU; `pad` defaults to "same" padding for odd kernels."""
    if pad is None:
        pad = (k[0] // 2, k[1] // 2) if isinstance(k, tuple) else k // 2
    return [nn.Conv2d(cin, cout, k, s, pad, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


BLANK = len(ALPHABET) - 1  # the CTC blank is the pad character
STEPS = 32                 # CTC time steps: one per 4 input columns


class PlateCTC(nn.Module):
    """CNN trunk read left to right by CTC, exported in the fast-plate-ocr convention.

    Training sees 32 time steps (one per 4 input columns) of logits over the alphabet, with the pad
    character as the CTC blank. The exported graph decodes greedily inside ONNX — argmax per step,
    drop blanks and repeats, left-align into 10 slots, pad the rest — so its output is the usual
    slots x alphabet of probabilities: each slot holds the probabilities of the step it came from.
    Ops: Conv/Relu, Softmax, ArgMax, Equal, Not, And, Cast, MatMul, ReduceSum, Mul, Add, Sub.
    """

    def __init__(self, width=1.0, dropout=0.15):
        super().__init__()
        self.head_kind = "ctc"
        c = [int(round(v * width)) for v in (24, 48, 64, 96, 128, 192)]
        self.features = nn.Sequential(
            *cbr(3, c[0], s=2),                 # 32x64
            *cbr(c[0], c[1], s=2),              # 16x32
            *cbr(c[1], c[2]),                   # 16x32
            *cbr(c[2], c[3], s=(2, 1)),         # 8x32
            *cbr(c[3], c[4], s=(2, 1)),         # 4x32
            *cbr(c[4], c[5], k=(4, 1), pad=0), # collapse the height: 1x32 (no padding)
        )
        self.context = nn.Sequential(*cbr(c[5], c[5], k=(1, 3)), nn.Dropout(dropout))
        self.cls = nn.Conv2d(c[5], len(ALPHABET), 1)
        tri = torch.triu(torch.ones(STEPS, STEPS))      # tri[s, t] = 1 when s <= t
        self.register_buffer("tri", tri, persistent=False)
        self.register_buffer("slot_no", torch.arange(1, SLOTS + 1, dtype=torch.float32).view(1, SLOTS, 1),
                             persistent=False)
        pad = torch.zeros(1, 1, len(ALPHABET))
        pad[0, 0, BLANK] = 1.0
        self.register_buffer("pad_row", pad, persistent=False)

    def step_logits(self, x_nchw_float):
        """N x 32 x 37 logits, one row per time step."""
        f = self.cls(self.context(self.features(x_nchw_float)))   # N, 37, 1, 32
        return f.squeeze(2).transpose(1, 2)

    def forward(self, x_uint8_nhwc):
        x = x_uint8_nhwc.to(torch.float32) / 255.0
        logits = self.step_logits(x.permute(0, 3, 1, 2))                     # N, T, A
        k = logits.argmax(-1)                                                 # N, T
        prev = torch.cat([torch.full_like(k[:, :1], -1), k[:, :-1]], dim=1)
        keep = ((k != BLANK) & (k != prev)).to(torch.float32)                # N, T
        pos = torch.matmul(keep, self.tri)                                     # 1-based slot of each step
        take = (pos.unsqueeze(1) == self.slot_no).to(torch.float32) * keep.unsqueeze(1)  # N, S, T
        filled = take.sum(-1, keepdim=True)                                    # N, S, 1: 1 or 0
        # The softmax runs on the 10 picked rows, not on all 32 steps: the same probabilities
        # (picking a row commutes with a row-wise softmax), and tract spent 7 % of a read on
        # the 32-step softmax over the transposed logits.
        out = torch.softmax(torch.matmul(take, logits), dim=-1)                # N, S, A
        return out * filled + (1.0 - filled) * self.pad_row


def ctc_greedy(step_argmax):
    """Greedy CTC decode of an N x T array of argmax indices into strings."""
    out = []
    for row in step_argmax:
        prev, s = -1, []
        for k in row:
            k = int(k)
            if k != BLANK and k != prev:
                s.append(ALPHABET[k])
            prev = k
        out.append("".join(s))
    return out


class PlateOCR(nn.Module):
    """CNN trunk + slot head.

    head="fc":   flatten -> MLP -> 10*37 logits (fast-plate-ocr style dense head).
    head="attn": global MLP predicts one query per slot; each slot attends over the
                 4x16 feature map (softmax over positions, plus a learned positional
                 bias) and a shared linear classifier reads the pooled feature.
                 Only Gemm/MatMul/Add/Softmax/Reshape/Transpose ops.
    """

    def __init__(self, width=1.0, dropout=0.25, head="fc"):
        super().__init__()
        self.head_kind = head
        c = [int(round(v * width)) for v in (16, 32, 64, 96, 128)]
        self.features = nn.Sequential(
            *cbr(3, c[0], s=2),                 # 32x64
            *cbr(c[0], c[1]),                   # 32x64
            nn.MaxPool2d(2),                    # 16x32
            *cbr(c[1], c[2]),                   # 16x32
            *cbr(c[2], c[2]),                   # 16x32
            nn.MaxPool2d((2, 1)),               # 8x32
            *cbr(c[2], c[3]),                   # 8x32
            nn.MaxPool2d(2),                    # 4x16
            *cbr(c[3], c[4]),                   # 4x16
            *cbr(c[4], 48, k=1),                # 4x16, squeeze channels for the head
        )
        if head == "attn":
            C, HW, Q = 48, 4 * 16, 64
            self.ctx = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(C * HW, 256),
                                     nn.ReLU(inplace=True), nn.Linear(256, SLOTS * Q))
            self.key = nn.Linear(C, Q)
            self.pos = nn.Parameter(torch.zeros(SLOTS, HW))
            self.cls = nn.Sequential(nn.Dropout(dropout / 2), nn.Linear(C + Q, len(ALPHABET)))
            self.Q = Q
            return
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(48 * 4 * 16, 256),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout / 2),
            nn.Linear(256, SLOTS * len(ALPHABET)),
        )

    def logits(self, x_nchw_float):
        f = self.features(x_nchw_float)
        if self.head_kind != "attn":
            return self.head(f).view(-1, SLOTS, len(ALPHABET))
        n, c = f.shape[0], f.shape[1]
        seq = f.reshape(n, c, -1).transpose(1, 2)              # N, HW, C
        q = self.ctx(f).reshape(n, SLOTS, self.Q)               # N, 10, Q
        k = self.key(seq)                                       # N, HW, Q
        att = torch.softmax(torch.matmul(q, k.transpose(1, 2)) * (self.Q ** -0.5) + self.pos, dim=-1)
        pooled = torch.matmul(att, seq)                         # N, 10, C
        return self.cls(torch.cat([pooled, q], dim=-1))

    def forward(self, x_uint8_nhwc):
        x = x_uint8_nhwc.to(torch.float32) / 255.0
        x = x.permute(0, 3, 1, 2)
        return torch.softmax(self.logits(x), dim=-1)


def macs(model):
    """Multiply-accumulates of one forward pass (conv + linear)."""
    total = 0
    hooks = []

    def conv_hook(m, i, o):
        nonlocal total
        total += o.numel() // o.shape[0] * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def lin_hook(m, i, o):
        nonlocal total
        total += m.in_features * m.out_features

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, H, W, 3, dtype=torch.uint8))
    for h in hooks:
        h.remove()
    return total


def encode(text):
    text = text[:SLOTS]
    return [ALPHABET.index(c) for c in text] + [len(ALPHABET) - 1] * (SLOTS - len(text))


def decode(idx_row):
    return "".join(ALPHABET[i] for i in idx_row if ALPHABET[i] != PAD)
