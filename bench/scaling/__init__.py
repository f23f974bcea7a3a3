"""Data-parallel training at growing world sizes (issue 14): `run --profile scaling`.

    mnistbench run --profile scaling --nproc-per-node 2 --threads 1        # one node
    torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d \\
        --rdzv-endpoint HOST:PORT -m bench run --profile scaling            # a cluster

Both start the same workers through torchrun's own machinery: `mnistbench run` is the launcher
(`launch.py`, torch.distributed.launcher's elastic launch, what torchrun itself calls); under
torchrun the workers run `worker.py` directly. Every rank trains with DistributedDataParallel
(gloo on CPU, NCCL on CUDA); rank 0 alone writes the run directory.

    plan.py     the world sizes, the items (model x world size), sharding and the LR rule
    checks.py   the launch settings and every bad input, refused before anything starts
    launch.py   `mnistbench run --profile scaling`: elastic launch, and what to record when a
                rank or the rendezvous fails
    worker.py   one rank: process groups, the ladder of world sizes, rank 0's records
    ddp.py      what a rank does for one item: the timed steps and the time-to-target run
    records.py  the Scaling records (ok, failed, skipped) and the results files
"""
