"""The machine: which device runs the work (device.py) and what the machine is (machine.py)."""

# `--device` values; here rather than in device.py so the CLI's parser needs no torch import.
DEVICE_CHOICES = ("cpu", "cuda", "auto")
