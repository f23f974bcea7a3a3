"""Make the bundled real-MNIST subset (bench/data/assets/mnist-subset) from the full standard set.

    python scripts/make_subset.py --source ../shared/data/mnist            # (re)write the files
    python scripts/make_subset.py --source ../shared/data/mnist --check    # compare, write nothing

Selection (deterministic, no random numbers): `bench.data.select_balanced` - the first
TRAIN_PER_CLASS images of each digit from the training file and the first TEST_PER_CLASS of each
digit from the test file, in file order. The files are gzip level 9 with mtime 0 and no file name
in the header, so the same input gives the same bytes with the same zlib. The script prints the
sha256 table of the uncompressed content, which belongs in bench.data.SUBSET_SHA256.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.data.idx import NUM_CLASSES, STANDARD_NAMES, encode_images, encode_labels  # noqa: E402
from bench.data.sources import Dataset, load  # noqa: E402
from bench.data.specs import SUBSET_SHA256  # noqa: E402
from bench.data.tensors import select_balanced  # noqa: E402

TRAIN_PER_CLASS = 200
TEST_PER_CLASS = 100
OUT = ROOT / "bench" / "assets" / "mnist-subset"


def build(ds: Dataset) -> dict[str, bytes]:
    """Standard file name -> uncompressed IDX content of the subset of `ds` (full MNIST)."""
    contents = {}
    for split, per_class in (("train", TRAIN_PER_CLASS), ("test", TEST_PER_CLASS)):
        images, labels = getattr(ds, f"{split}_images"), getattr(ds, f"{split}_labels")
        keep = select_balanced(labels, per_class * NUM_CLASSES)
        contents[STANDARD_NAMES[split, "images"]] = encode_images(images[keep].numpy())
        contents[STANDARD_NAMES[split, "labels"]] = encode_labels(labels[keep].numpy())
    return contents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true",
                        help="compare with bench.data.SUBSET_SHA256 and the files in --out")
    args = parser.parse_args(argv)
    ds = load("mnist", data_dir=args.source, allow_download=False)
    if not ds.verified or ds.subset:
        sys.exit(f"{args.source} is not the verified full MNIST set; the subset must come from it")
    contents = build(ds)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()}
    for name, digest in digests.items():
        print(f'    "{name}": "{digest}",')
    if args.check:
        on_disk = {n: hashlib.sha256(gzip.decompress((args.out / f"{n}.gz").read_bytes()))
                   .hexdigest() for n in contents}
        ok = digests == SUBSET_SHA256 == on_disk
        print("subset matches bench.data.SUBSET_SHA256 and the bundled files" if ok
              else "MISMATCH: regenerate the subset and update bench.data.SUBSET_SHA256")
        return 0 if ok else 1
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        (args.out / f"{name}.gz").write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"wrote {len(contents)} files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
