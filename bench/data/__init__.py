"""MNIST (and Fashion-MNIST) for the benchmarks. Import from the module that does the job:

    specs.py    the datasets known, their checksums and download mirrors (data)
    idx.py      the strict IDX reader
    sources.py  `load`: where the data comes from, in order, down to the bundled subset
    tensors.py  the resident, normalised tensors the trainer uses
    command.py  `mnistbench data`
"""
