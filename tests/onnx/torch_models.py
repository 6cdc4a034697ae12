"""Real torchvision architectures (random weights, randomised BatchNorm statistics) exported with
torch.onnx.export, when Debian's python3-torch and python3-torchvision are installed. Inputs are
64x64 so the suite stays quick; the architectures are the real ones."""
import io

import numpy as np
import onnx

MODELS = ["resnet18", "mobilenet_v2", "squeezenet1_1", "efficientnet_b0", "shufflenet_v2_x1_0",
          "densenet121"]
# (architecture, opset): every model at opset 13, and the ones whose export changes most with
# the opset (Clip's inputs, shape arithmetic, Split/Slice, ReduceMean) at 11 and 17 too.
VARIANTS = [(m, 13) for m in MODELS] + [(m, o) for o in (11, 17)
                                         for m in ("mobilenet_v2", "shufflenet_v2_x1_0", "efficientnet_b0")]


def available():
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except Exception as e:  # ImportError, or a broken install
        return f"torch/torchvision not importable ({type(e).__name__}: {e})"
    return None


def export(name, seed, opset=13, hw=64):
    import torch
    import torchvision

    torch.manual_seed(seed)
    ctor = getattr(torchvision.models, name)
    try:
        model = ctor(weights=None)
    except TypeError:  # older torchvision
        model = ctor(pretrained=False)
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=g) * 0.4 - 0.2)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.rand(m.num_features, generator=g) * 0.4 - 0.2)
    model.eval()
    x = torch.rand(2, 3, hw, hw, generator=g) * 2 - 1
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(model, x, buf, opset_version=opset, input_names=["image"],
                          output_names=["logits"], dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}},
                          do_constant_folding=True)
    return onnx.load_from_string(buf.getvalue()), x.numpy().astype(np.float32)
