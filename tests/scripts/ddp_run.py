"""Run under torchrun: an experiment config through i2p's results store on two CPU ranks."""
import sys

import torch

from i2p.experiments import ExperimentConfig, run

torch.set_num_threads(1)
config, store = sys.argv[1], sys.argv[2]
(record,) = run(ExperimentConfig.load(config), store=store, progress=False)
torch.save(record.metrics, f"{store}/metrics_rank{torch.distributed.get_rank()}.pt")
torch.distributed.destroy_process_group()
