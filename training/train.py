"""Train one FER+ network on soft vote targets; select the checkpoint on FER+ Valid.

    /usr/bin/python3 training/train.py --arch lite --data ../shared/data/ferplus --out runs/lite
    (--data may be a FER+ root with FER2013Train/ and FER2013Valid/, or a folder of packed
     train.npz/valid.npz written by training/ferplus.py)

Runs on CPU (Debian torch 1.13) and CUDA (torch 2.x) alike. Augmentation is done on whole
batches with one affine grid_sample, so the CPU spends its time in the network, not in Python.
Writes OUT/best.pt (state dict + arch + input normalisation) and OUT/history.json (curves).

Loss (targets y = vote distribution smoothed by --smooth, z = logits):
    (1 - alpha) * CE(y, softmax(z)) + alpha * T^2 * CE(p_T, softmax(z / T))
where p = the teacher's probabilities (--teacher .npy, one row per Train image in file order,
e.g. written by training/ensemble.py) and p_T = p^(1/T) renormalised, i.e. softmax(log p / T):
the teacher's log-probabilities act as its logits. T^2 keeps the gradient scale of the soft
term independent of T (Hinton et al.); T = 1 is plain soft-target training on p.
--consistency L fits that loss on the undegraded view of each face and adds L x the
Jensen-Shannon divergence between the predictions on it and on its --photometric/--jpeg copy
(AugMix's consistency term), instead of fitting the degraded copy itself; --consistency-stop
makes the term KL(clean || degraded) with no gradient through the clean view.
--mix mixup|cutmix mixes pairs of (augmented) images and, with the same weight, their targets
and teacher rows (cutmix: weight = the kept area). --amp: bf16 (or fp16 + loss scaling)
autocast on CUDA; ignored on CPU. --ema D keeps an exponential moving average of the weights
(and BatchNorm statistics), w_ema = D * w_ema + (1 - D) * w after every step; that average is
what is evaluated, selected and saved. It smooths the noise of small soft-target batches, which
a short CPU schedule cannot anneal away. Convolutions run in channels-last layout (oneDNN on
CPU and cuDNN both run that faster); checkpoints are saved contiguous.
"""
import argparse
import contextlib
import copy
import fcntl
import hashlib
import io
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferplus  # noqa: E402
from models import build  # noqa: E402

# Input normalisation, stored in the .emx INPT chunk: x = (p/255 - MEAN) / STD.
MEAN, STD = 0.5, 0.25


def load_data(root):
    def split(name, folder):
        packed = os.path.join(root, name + ".npz")
        return ferplus.load_split(packed if os.path.exists(packed) else os.path.join(root, folder))
    return split("train", "FER2013Train"), split("valid", "FER2013Valid")


def to_input(images_u8, device):
    x = torch.from_numpy(images_u8).to(device=device, dtype=torch.float32).unsqueeze(1)
    return (x / 255.0 - MEAN) / STD


def augment(x, gen, rot_deg=15.0, scale=(0.85, 1.15), shift=0.1, erase_p=0.5):
    """Random rotation/scale/shift/mirror in one grid_sample, then random erasing."""
    n, dev = x.shape[0], x.device
    r = lambda *s: torch.rand(*s, generator=gen).to(dev)
    ang = (r(n) * 2 - 1) * math.radians(rot_deg)
    sc = scale[0] + r(n) * (scale[1] - scale[0])
    flip = torch.where(r(n) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos * flip, -sin, (r(n) * 2 - 1) * shift], 1),
                         torch.stack([sin * flip, cos, (r(n) * 2 - 1) * shift], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    # Random erasing: one rectangle of 2%..20% of the face per chosen image, filled with noise.
    h, w = x.shape[2], x.shape[3]
    area = (0.02 + r(n) * 0.18) * h * w
    aspect = torch.exp((r(n) * 2 - 1) * math.log(3.0))
    eh = (area * aspect).sqrt().clamp(1, h).long()
    ew = (area / aspect).sqrt().clamp(1, w).long()
    y0 = (r(n) * (h - eh + 1).float()).long()
    x0 = (r(n) * (w - ew + 1).float()).long()
    ys = torch.arange(h, device=dev).view(1, h, 1)
    xs = torch.arange(w, device=dev).view(1, 1, w)
    box = ((ys >= y0.view(-1, 1, 1)) & (ys < (y0 + eh).view(-1, 1, 1)) &
           (xs >= x0.view(-1, 1, 1)) & (xs < (x0 + ew).view(-1, 1, 1)))
    box &= (r(n) < erase_p).view(-1, 1, 1)
    noise = torch.randn(x.shape, generator=gen).to(dev)
    return torch.where(box.unsqueeze(1), noise, x)


def photometric(x, gen, p=0.5):
    """What cameras and photos do to a face that FER2013's crops rarely show, each change on a
    random half (p) of the batch: gamma 0.6..1.6 with contrast 0.7..1.3 and brightness +-0.1,
    Gaussian blur (sigma 0.3..1.2 px), low resolution (down to 24..44 px and back), sensor
    noise (sigma up to 10 grey levels). Works on normalised input x = (pixel/255 - MEAN) / STD
    and returns the same; measured by training/robustness.py on Valid."""
    n, _, h, w = x.shape
    dev = x.device
    r = lambda *s: torch.rand(*s, generator=gen).to(dev)
    pick = lambda: (r(n) < p).view(n, 1, 1, 1)
    v = (x * STD + MEAN).clamp(0, 1)
    g = torch.exp((r(n) * 2 - 1) * math.log(1.6)).view(n, 1, 1, 1)
    c = (0.7 + 0.6 * r(n)).view(n, 1, 1, 1)
    b = ((r(n) * 2 - 1) * 0.1).view(n, 1, 1, 1)
    v = torch.where(pick(), ((v.pow(g) - 0.5) * c + 0.5 + b).clamp(0, 1), v)
    # blur: one 5x5 Gaussian per image, as a grouped convolution over the batch
    sigma = (0.3 + 0.9 * r(n)).view(n, 1, 1)
    t = torch.arange(-2, 3, device=dev, dtype=x.dtype).view(1, 5)
    k1 = torch.exp(-(t ** 2) / (2 * sigma.view(n, 1) ** 2))
    k1 = k1 / k1.sum(1, keepdim=True)
    k2 = (k1.view(n, 5, 1) * k1.view(n, 1, 5)).view(n, 1, 5, 5)
    blurred = F.conv2d(F.pad(v.view(1, n, h, w), (2, 2, 2, 2), mode="replicate"), k2, groups=n)
    v = torch.where(pick(), blurred.view(n, 1, h, w), v)
    # low resolution: every picked image at one random size (one interpolate per batch)
    side = int(24 + 20 * float(torch.rand(1, generator=gen)))
    low = F.interpolate(F.interpolate(v, size=(side, side), mode="area"), size=(h, w),
                        mode="bilinear", align_corners=False)
    v = torch.where(pick(), low, v)
    noise = torch.randn(v.shape, generator=gen).to(dev) * (r(n) * 10 / 255).view(n, 1, 1, 1)
    v = torch.where(pick(), (v + noise).clamp(0, 1), v)
    return (v - MEAN) / STD


def jpeg(x, gen, p=0.5, quality=(20, 90)):
    """JPEG compression of a random share p of the batch, each image at its own quality drawn
    uniformly from `quality`: photos and streamed frames are compressed, FER2013's crops mostly
    were not, and the 8x8 block artefacts are a change --photometric's blur and noise do not
    teach (measured by training/robustness.py's JPEG quality 30 set). Encoded by PIL, the
    library the robustness sets are made with, on the image rounded to 8 bits; works on
    normalised input and returns the same."""
    n = x.shape[0]
    picked = torch.rand(n, generator=gen) < p
    q = quality[0] + (torch.rand(n, generator=gen) * (quality[1] - quality[0] + 1)).long()
    if not bool(picked.any()):
        return x
    pixels = ((x.detach() * STD + MEAN).clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
    out = x.clone()
    for i in torch.nonzero(picked).flatten().tolist():
        buf = io.BytesIO()
        Image.fromarray(pixels[i, 0]).save(buf, format="JPEG", quality=int(q[i]))
        decoded = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"), dtype=np.float32)
        out[i, 0] = (torch.from_numpy(decoded).to(x.device) / 255.0 - MEAN) / STD
    return out


def mix_batch(x, targets, gen, mode, alpha):
    """mixup / cutmix of a batch with a random permutation of itself. targets: list of [N, C]
    tensors (or None), mixed with the same weights. Returns (x, targets)."""
    if mode == "none" or alpha <= 0 or x.shape[0] < 2:
        return x, targets
    n, dev = x.shape[0], x.device
    lam = float(np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
                .beta(alpha, alpha))
    perm = torch.randperm(n, generator=gen).to(dev)
    if mode == "mixup":
        x = lam * x + (1 - lam) * x[perm]
    elif mode == "cutmix":
        h, w = x.shape[2], x.shape[3]
        ch, cw = int(round(h * math.sqrt(1 - lam))), int(round(w * math.sqrt(1 - lam)))
        cy, cx = [int(v) for v in torch.randint(0, 10**6, (2,), generator=gen)]
        cy, cx = cy % h, cx % w
        y0, y1 = max(cy - ch // 2, 0), min(cy + (ch + 1) // 2, h)
        x0, x1 = max(cx - cw // 2, 0), min(cx + (cw + 1) // 2, w)
        x = x.clone()
        x[:, :, y0:y1, x0:x1] = x[perm][:, :, y0:y1, x0:x1]
        lam = 1.0 - (y1 - y0) * (x1 - x0) / float(h * w)
    else:
        raise ValueError(f"unknown --mix {mode}")
    return x, [None if t is None else lam * t + (1 - lam) * t[perm] for t in targets]


def batch_loss(z, targets, teacher, shift, alpha, temperature):
    """Cross-entropy of the logits z + shift against the soft targets, mixed with the
    distillation term (temperature T, weight alpha) when a teacher is given. shift is
    tau * log(prior) for --logit-adjust (0 otherwise): the shifted logits fit the targets, so z
    itself fits them divided by prior^tau (the balanced posterior at tau 1)."""
    z = z + shift
    loss = -(targets * F.log_softmax(z, 1)).sum(1).mean()
    if teacher is not None:
        kd = -(teacher * F.log_softmax(z / temperature, 1)).sum(1).mean() * (temperature * temperature)
        loss = (1 - alpha) * loss + alpha * kd
    return loss


def consistency_loss(z_clean, z_degraded, stop=False):
    """--consistency's term: the Jensen-Shannon divergence between the predictions on a face and
    on its degraded copy (AugMix's consistency loss, Hendrycks et al. 2020, for two views). The
    labels and the teacher are fitted on the undegraded view only, so the degradation never
    dilutes what the clean faces teach; the network is asked only to say the same of both.
    stop (--consistency-stop): KL(clean || degraded) with no gradient through the clean view, so
    the degraded copy is pulled to what the clean face says and never the other way."""
    if stop:
        return F.kl_div(F.log_softmax(z_degraded, 1), F.softmax(z_clean.detach(), 1), reduction="batchmean")
    p, q = F.softmax(z_clean, 1), F.softmax(z_degraded, 1)
    log_m = (0.5 * (p + q)).clamp_min(1e-7).log()
    return 0.5 * (F.kl_div(log_m, p, reduction="batchmean") + F.kl_div(log_m, q, reduction="batchmean"))


def epoch_order(n, gen, weights=None):
    """One epoch's image order: a permutation of range(n), or with weights (--sample-balance) n
    draws with replacement, image i drawn with probability proportional to weights[i]."""
    if weights is None:
        return torch.randperm(n, generator=gen)
    return torch.multinomial(weights, n, replacement=True, generator=gen)


def balanced_sample_weights(targets, log_prior, tau):
    """--sample-balance's per-image weights: prior^-tau of each image's majority class."""
    return torch.exp(-tau * log_prior)[targets.argmax(1)]


def soften(p, temperature, balance=None):
    """p^(1/T) renormalised (= softmax(log p / T)). balance: tau * log(prior), divided out of p
    first (p * prior^-tau renormalised: the package's balance option, applied to the targets)."""
    if balance is not None:
        p = p * torch.exp(-balance.to(p.device))
        p = p / p.sum(1, keepdim=True)
    if temperature == 1.0:
        return p
    q = p.clamp_min(1e-12).pow(1.0 / temperature)
    return q / q.sum(1, keepdim=True)


@torch.no_grad()
def predict(model, x, batch=512, flip_tta=False):
    model.eval()
    out = []
    for i in range(0, x.shape[0], batch):
        xb = x[i:i + batch]
        p = F.softmax(model(xb), 1)
        if flip_tta:
            p = 0.5 * (p + F.softmax(model(torch.flip(xb, [3])), 1))
        out.append(p)
    return torch.cat(out)


class WeightEMA:
    """Exponential moving average of a model's state (parameters and BatchNorm buffers; integer
    buffers such as num_batches_tracked are copied). Kept as a second model so that it can be
    evaluated and saved like the first."""

    def __init__(self, model, decay):
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model):
        for e, v in zip(self.model.state_dict().values(), model.state_dict().values()):
            if e.dtype.is_floating_point:
                e.mul_(self.decay).add_(v.detach(), alpha=1.0 - self.decay)
            else:
                e.copy_(v)


def selection_score(acc, acc_tta, select):
    """The Valid figure best.pt is kept by. Every shipped file runs with flip TTA (the .emx
    averages the mirrored face), so an epoch is judged by its flip-TTA accuracy alone: the
    plain figure is logged, not chosen on, since an epoch better without the mirror than
    another but worse with it would win for a figure nobody ships. With --select last every
    epoch replaces the one before."""
    return math.inf if select == "last" else acc_tta


def mean_class_recall(probs, labels, n_classes=8):
    """Mean over classes of the fraction of each class's images predicted as that class."""
    keep = labels >= 0
    pred, lab = probs.argmax(1).cpu().numpy()[keep], labels[keep]
    return float(np.mean([(pred[lab == c] == c).mean() for c in range(n_classes) if (lab == c).any()]))


def majority_accuracy(probs, labels):
    keep = labels >= 0
    pred = probs.argmax(1).cpu().numpy()
    return float((pred[keep] == labels[keep]).mean())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="lite")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "../../shared/data/ferplus"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="tiny schedule on a subset (tests)")
    ap.add_argument("--init", help="start from this checkpoint's weights (e.g. to anneal a run)")
    ap.add_argument("--warmup", type=float, default=1.0, help="epochs of linear lr warm-up")
    ap.add_argument("--teacher", help=".npy of teacher probabilities on Train, for distillation")
    ap.add_argument("--teacher-model", help="ensemble .emx scoring each augmented batch itself "
                    "(training/live_teacher.py), instead of --teacher's precomputed probabilities")
    ap.add_argument("--teacher-archs", help="comma-separated architecture of each --teacher-model member")
    ap.add_argument("--teacher-view", choices=["batch", "geometric"], default="batch",
                    help="what --teacher-model scores: the student's whole batch (batch), or each "
                    "image after the geometric augmentation only, before --photometric and --mix "
                    "(geometric: consistent for framing, invariant to image degradation)")
    ap.add_argument("--teacher-balance", type=float, default=0.0,
                    help="tau: the teacher's probabilities times Train's class prior^-tau, "
                    "renormalised, before they are targets (raises the rare classes the teacher "
                    "gives little mass; 0: unchanged)")
    ap.add_argument("--alpha", type=float, default=0.7, help="weight of the teacher term")
    ap.add_argument("--smooth", type=float, default=0.1, help="label smoothing of vote targets")
    ap.add_argument("--temperature", type=float, default=1.0,
                    help="distillation temperature T (teacher p^(1/T) renormalised, KD term x T^2)")
    ap.add_argument("--sample-balance", type=float, default=0.0,
                    help="tau of class-balanced sampling: each epoch draws its images with "
                    "replacement, an image with probability proportional to prior^-tau of its "
                    "majority class (0: every image once, in random order; 1: classes equally often)")
    ap.add_argument("--logit-adjust", type=float, default=0.0,
                    help="tau of a logit-adjusted loss (Menon et al., 2021): the targets are fitted by "
                    "logits + tau * log(Train class prior), so the network's own logits learn the "
                    "class-balanced posterior (tau 1) or part of the way to it")
    ap.add_argument("--mix", choices=["none", "mixup", "cutmix"], default="none")
    ap.add_argument("--mix-alpha", type=float, default=0.2, help="Beta(a, a) of the mix weight")
    ap.add_argument("--amp", action="store_true", help="bf16/fp16 autocast on CUDA (CPU: ignored)")
    ap.add_argument("--ema", type=float, default=0.0,
                    help="decay of a moving average of the weights, evaluated and saved (0: off)")
    ap.add_argument("--photometric", type=float, default=0.0,
                    help="probability of each photometric change (gamma, blur, low resolution, "
                         "noise) per image; 0: off")
    ap.add_argument("--jpeg", type=float, default=0.0,
                    help="share of images JPEG-compressed at a random quality 20..90, after "
                         "--photometric (and, like it, after a geometric-view teacher); 0: off")
    ap.add_argument("--consistency", type=float, default=0.0,
                    help="weight of a consistency term (Jensen-Shannon) between each face and its "
                         "--photometric/--jpeg copy; targets then fit the undegraded view. 0: off "
                         "(the degraded view is the one trained)")
    ap.add_argument("--consistency-stop", action="store_true",
                    help="--consistency as KL(clean || degraded), no gradient through the clean view")
    ap.add_argument("--consistency-reframe", action="store_true",
                    help="--consistency's degraded copy gets its own random framing (rotation, "
                         "scale, shift, mirror) as well, not the clean view's")
    ap.add_argument("--select", choices=["best", "last"], default="best",
                    help="what best.pt holds: the epoch best on clean FER+ Valid (flip TTA, as "
                         "shipped), or the cycle's "
                         "last (a degraded-view cycle's gain in robustness comes after the first "
                         "epochs, which clean Valid alone prefers)")
    ap.add_argument("--stop-after", type=int, default=0,
                    help="end the run after N epochs of the --epochs cosine schedule (the lr "
                         "never anneals to its floor; with --select last, best.pt is epoch N). "
                         "0: all --epochs")
    ap.add_argument("--keep-epochs", action="store_true",
                    help="also save each epoch's evaluated model as OUT/epochN.pt (best.pt keeps "
                    "one, see --select; robustness is measured on the others)")
    ap.add_argument("--resume", action="store_true",
                    help="continue from OUT/last.pt (written after every epoch, and every "
                         "--checkpoint-steps steps) if it exists")
    ap.add_argument("--checkpoint-steps", type=int, default=0,
                    help="also write OUT/last.pt every N steps inside an epoch (slow runs on a "
                         "shared CPU: a stop loses at most N steps); 0: after epochs only")
    ap.add_argument("--max-steps", type=int, default=0,
                    help="stop (after a checkpoint) once this invocation has taken N steps; "
                         "--resume continues exactly where it stopped. 0: no limit")
    args = ap.parse_args(argv)
    # One writer per run folder: a pipeline reaching a member that a parallel process is still
    # training waits here, then resumes from (or finds finished) what that process left, instead
    # of both overwriting last.pt with different states.
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, ".lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"{args.out} is being trained by another process; waiting for it", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        run(args)


# What makes a run what it is: --resume refuses a folder trained with other values of these (a
# recipe edited between sessions would otherwise continue old epochs under new settings).
RUN_SETTINGS = ("arch", "epochs", "batch", "lr", "wd", "seed", "warmup", "alpha", "smooth",
                "temperature", "mix", "mix_alpha", "ema", "photometric", "logit_adjust", "teacher_archs",
                "teacher_view", "teacher_balance", "sample_balance", "jpeg", "consistency",
                "consistency_stop", "consistency_reframe", "select")
# --stop-after is not one of them: it cuts the loop, not the schedule, so a cut run continued
# with a later stop is the same run as one never cut.
RUN_FILES = ("init", "teacher", "teacher_model")  # compared by content: the same bytes under another name agree


def _digest(path):
    if not path or not os.path.exists(path):
        return path
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def same_run_or_exit(args):
    """Exit, saying what differs, if args.out's history.json was written with other settings."""
    try:
        with open(os.path.join(args.out, "history.json")) as f:
            old = json.load(f)["args"]
    except (OSError, ValueError, KeyError):
        return  # stopped inside its first epoch: nothing recorded to compare
    diff = [f"{k} {old[k]!r} -> {getattr(args, k)!r}" for k in RUN_SETTINGS
            if k in old and old[k] != getattr(args, k)]
    diff += [f"{k} {old.get(k)} -> {getattr(args, k)}" for k in RUN_FILES
             if _digest(old.get(k)) != _digest(getattr(args, k))]
    if diff:
        sys.exit(f"--resume: {args.out} was trained with other settings ({'; '.join(diff)}); "
                 "give the run another --out, or move the folder aside")


def run(args):
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    gen = torch.Generator().manual_seed(args.seed)

    (tr_img, tr_votes, _), (va_img, va_votes, _) = load_data(args.data)
    targets, usable = ferplus.soft_targets(tr_votes)
    teacher = np.load(args.teacher).astype(np.float32) if args.teacher else None
    idx = np.nonzero(usable)[0]
    if args.quick:
        idx, args.epochs = idx[:512], 2
        va_img, va_votes = va_img[:256], va_votes[:256]
    x_tr = to_input(tr_img[idx], dev)
    y_tr = torch.from_numpy(targets[idx]).to(dev)
    if args.smooth > 0:
        y_tr = (1 - args.smooth) * y_tr + args.smooth / y_tr.shape[1]
    if teacher is not None and teacher.shape != targets.shape:
        sys.exit(f"--teacher {args.teacher}: shape {teacher.shape}, expected {targets.shape}")
    log_prior = torch.from_numpy(targets[idx].mean(0)).float().log().to(dev)  # Train's mean soft target
    # --teacher-balance: the teacher's rows with tau * log(prior) divided out (None: unchanged)
    t_bal = args.teacher_balance * log_prior if args.teacher_balance else None
    t_tr = (soften(torch.from_numpy(teacher[idx]), args.temperature, t_bal).to(dev)
            if teacher is not None else None)
    # --logit-adjust: the loss sees logits + tau * log(prior)
    log_prior_shift = args.logit_adjust * log_prior
    # --sample-balance: rare classes' images drawn more often (weights prior^-tau by majority class)
    sample_w = (balanced_sample_weights(y_tr.cpu(), log_prior.cpu(), args.sample_balance)
                if args.sample_balance else None)
    live = None
    if args.teacher_model:
        if args.teacher or not args.teacher_archs:
            sys.exit("--teacher-model needs --teacher-archs, and excludes --teacher")
        from live_teacher import LiveTeacher
        with torch.random.fork_rng():  # building its nets draws numbers: keep the student's
            live = LiveTeacher(args.teacher_model, args.teacher_archs.split(","), dev)
        if (live.mean, live.std) != (MEAN, STD):
            sys.exit(f"--teacher-model {args.teacher_model}: input normalisation "
                     f"{live.mean}/{live.std}, this trainer's is {MEAN}/{STD}")

        def teach(x):  # the live teacher's rows for images x, as targets
            return soften(live(x), args.temperature, t_bal)
    elif args.teacher_view != "batch":
        sys.exit("--teacher-view geometric needs --teacher-model (precomputed targets have no view)")
    if args.stop_after < 0:
        sys.exit(f"--stop-after {args.stop_after}: a number of epochs, >= 0 (0: all --epochs)")
    if args.consistency_reframe and args.consistency <= 0:
        sys.exit("--consistency-reframe needs --consistency")
    if args.consistency > 0 and (args.mix != "none" or not (args.photometric > 0 or args.jpeg > 0)):
        sys.exit("--consistency needs a degraded view (--photometric or --jpeg) and --mix none")
    if args.teacher_balance and live is None and t_tr is None:
        sys.exit("--teacher-balance needs a teacher (--teacher or --teacher-model)")
    x_va = to_input(va_img, dev)
    va_labels = ferplus.majority_labels(va_votes)

    model = build(args.arch).to(dev)
    use_amp = args.amp and dev.type == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.cuda.amp.GradScaler(enabled=use_amp and amp_dtype == torch.float16)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    if args.init:
        state = torch.load(args.init, map_location="cpu")["state_dict"]
        if hasattr(model, "adapt_init"):  # e.g. facelite: part of a pretrained backbone
            state = model.adapt_init(state)
        model.load_state_dict(state)
    model = model.to(memory_format=torch.channels_last)
    ema = WeightEMA(model, args.ema) if args.ema > 0 else None
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                          weight_decay=args.wd)
    steps_per_epoch = math.ceil(len(idx) / args.batch)
    total, warm = args.epochs * steps_per_epoch, int(args.warmup * steps_per_epoch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, total - warm))))

    os.makedirs(args.out, exist_ok=True)
    hist, best, t0, start = [], -1.0, time.time(), 0
    last_path = os.path.join(args.out, "last.pt")
    resume_step, resume_perm, resume_loss = 0, None, 0.0

    def save_last(epoch_done, step=0, perm=None, tot_loss=0.0):
        """Everything a bit-identical continuation needs: weights, optimiser and schedule
        state, the moving average, both random generators, the curves and the best score; inside
        an epoch also its permutation, the next step and the loss so far."""
        torch.save(dict(model=model.state_dict(), opt=opt.state_dict(), sched=sched.state_dict(),
                        ema=None if ema is None else ema.model.state_dict(), gen=gen.get_state(),
                        torch_rng=torch.get_rng_state(), hist=hist, best=best, epoch=epoch_done,
                        step=step, perm=perm, tot_loss=tot_loss), last_path + ".tmp")
        os.replace(last_path + ".tmp", last_path)  # a kill mid-write leaves the previous one

    if args.resume and os.path.exists(last_path):
        same_run_or_exit(args)
        ck = torch.load(last_path, map_location="cpu")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        if ema is not None:
            ema.model.load_state_dict(ck["ema"])
        gen.set_state(ck["gen"])
        torch.set_rng_state(ck["torch_rng"])
        hist, best, start = ck["hist"], ck["best"], ck["epoch"]
        resume_step, resume_perm, resume_loss = ck.get("step", 0), ck.get("perm"), ck.get("tot_loss", 0.0)
        t0 -= hist[-1]["seconds"] if hist else 0.0
        print(f"resumed {last_path} after epoch {start}"
              + (f", step {resume_step}" if resume_step else ""), flush=True)
    steps_taken = 0
    # --stop-after cuts the loop, not the schedule: lr(step) is still the --epochs cosine
    end = min(args.epochs, args.stop_after) if args.stop_after > 0 else args.epochs
    for epoch in range(start, end):
        model.train()
        if epoch == start and resume_step:
            perm, first, tot_loss = resume_perm.to(dev), resume_step, resume_loss
        else:
            perm, first, tot_loss = epoch_order(len(idx), gen, sample_w).to(dev), 0, 0.0
        for s in range(first, steps_per_epoch):
            b = perm[s * args.batch:(s + 1) * args.batch]
            xb = augment(x_tr[b], gen)
            tb = None if t_tr is None else t_tr[b]
            if live is not None and args.teacher_view == "geometric":
                # before the photometric changes: the student learns to say what the teacher
                # says of the undegraded view (mixing below mixes these rows like labels)
                tb = teach(xb.contiguous(memory_format=torch.channels_last))
            clean = xb
            if args.consistency_reframe:
                # the same faces framed again: the term then also asks for one answer across
                # framings (no erasing, so what differs is where the face sits, not what shows)
                xb = augment(x_tr[b], gen, erase_p=0.0)
            if args.photometric > 0:
                xb = photometric(xb, gen, args.photometric)
            if args.jpeg > 0:
                xb = jpeg(xb, gen, args.jpeg)
            if args.consistency > 0:
                # both views in one batch (one pass; BatchNorm sees both): targets for the clean
                # view, the consistency term between the two
                n_clean = clean.shape[0]
                xb = torch.cat([clean, xb])
            xb = xb.contiguous(memory_format=torch.channels_last)
            xb, (yb, tb) = mix_batch(xb, [y_tr[b], tb], gen, args.mix, args.mix_alpha)
            if live is not None and args.teacher_view == "batch":
                tb = teach(xb if args.consistency <= 0 else xb[:n_clean])  # the very images
            with (torch.autocast("cuda", dtype=amp_dtype) if use_amp else contextlib.nullcontext()):
                z = model(xb).float()
            if args.consistency > 0:
                agree = consistency_loss(z[:n_clean], z[n_clean:], args.consistency_stop)
                loss = (batch_loss(z[:n_clean], yb, tb, log_prior_shift, args.alpha, args.temperature)
                        + args.consistency * agree)
            else:
                loss = batch_loss(z, yb, tb, log_prior_shift, args.alpha, args.temperature)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
            if ema is not None:
                ema.update(model)
            tot_loss += float(loss)
            steps_taken += 1
            at_limit = args.max_steps and steps_taken >= args.max_steps
            if s + 1 < steps_per_epoch and (at_limit or (
                    args.checkpoint_steps and (s + 1) % args.checkpoint_steps == 0)):
                save_last(epoch, s + 1, perm.cpu(), tot_loss)
            if at_limit and s + 1 < steps_per_epoch:
                print(f"stopped after {steps_taken} steps (--max-steps): epoch {epoch + 1}, "
                      f"step {s + 1}; --resume continues", flush=True)
                return
        kept = model if ema is None else ema.model
        acc = majority_accuracy(predict(kept, x_va), va_labels)
        p_tta = predict(kept, x_va, flip_tta=True)
        acc_tta, recall = majority_accuracy(p_tta, va_labels), mean_class_recall(p_tta, va_labels)
        hist.append(dict(epoch=epoch + 1, loss=tot_loss / steps_per_epoch, valid_acc=acc,
                         valid_acc_flip=acc_tta, valid_recall_flip=recall,
                         seconds=time.time() - t0))
        print(f"epoch {epoch + 1}/{args.epochs} loss {tot_loss / steps_per_epoch:.4f} "
              f"valid {acc * 100:.2f}% flip-tta {acc_tta * 100:.2f}% mean recall "
              f"{recall * 100:.1f}% ({time.time() - t0:.0f}s)", flush=True)
        state = {k: v.contiguous() for k, v in kept.state_dict().items()}
        snapshot = dict(arch=args.arch, state_dict=state, mean=MEAN, std=STD, epoch=epoch + 1,
                        valid_acc=acc, valid_acc_flip=acc_tta, args=vars(args))
        # the row says whether best.pt now holds this epoch, so a card names the kept epoch
        # without repeating this rule (histories written before the flag: model_card.kept_epoch)
        hist[-1]["kept"] = selection_score(acc, acc_tta, args.select) > best
        if hist[-1]["kept"]:
            best = acc_tta
            torch.save(snapshot, os.path.join(args.out, "best.pt"))
        if args.keep_epochs:  # every epoch's model, for choosing on more than clean Valid
            torch.save(snapshot, os.path.join(args.out, f"epoch{epoch + 1}.pt"))
        with open(os.path.join(args.out, "history.json"), "w") as f:
            json.dump(dict(args=vars(args), device=str(dev), torch=torch.__version__,
                           history=hist), f, indent=1)
        save_last(epoch + 1)
        if args.max_steps and steps_taken >= args.max_steps and epoch + 1 < end:
            print(f"stopped after {steps_taken} steps (--max-steps) at the end of epoch "
                  f"{epoch + 1}; --resume continues", flush=True)
            return
    kept_as = "best valid (flip TTA)" if args.select == "best" else "last epoch, valid (flip TTA)"
    print(f"{kept_as} {best * 100:.2f}% -> {os.path.join(args.out, 'best.pt')}")


if __name__ == "__main__":
    main()
