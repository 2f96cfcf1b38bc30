"""Run under torchrun: two CPU ranks (gloo) train one epoch; each rank saves its weights."""
import sys

import torch

from i2p.data import PrimitiveShapes
from i2p.finetune import apply_scope
from i2p.models import create_model
from i2p.train import TrainConfig, fit

torch.set_num_threads(1)
out = sys.argv[1]
torch.manual_seed(0)  # same init on every rank, as DDP requires
model = apply_scope(create_model("resnet18", 6), "scratch")
init = {k: v.clone() for k, v in model.state_dict().items()}
cfg = TrainConfig(epochs=1, batch_size=4, lr=0.01, voxel_size=0.15, progress=False, device="cpu")
fit(model, PrimitiveShapes(num_per_class=2, num_points=256), cfg)
rank = torch.distributed.get_rank()
params = {k for k, _ in model.named_parameters()}
torch.save({k: v for k, v in model.state_dict().items() if k in params}, f"{out}/rank{rank}.pt")
if rank == 0:
    torch.save({k: init[k] for k in params}, f"{out}/init.pt")
torch.distributed.destroy_process_group()
