r"""
---
title: "Appendix: the CIFAR-10 files"
description: Finding, downloading, checking and reading CIFAR-10's python version safely, for the experiment.
---

# Appendix: the CIFAR-10 files

The experiment chapter trains on arrays; this module is where they come from. CIFAR-10's
"python version" is a folder `cifar-10-batches-py/` with five training batches and a test
batch of 10,000 images each, and `batches.meta`. Each batch is a pickled dict whose `data` is
`uint8` `[10000, 3072]` (1,024 red, then green, then blue values, row by row) and whose
`labels` are 0…9.

Three things here are not obvious:

* **Nothing is created until the data has arrived.** The archive is downloaded and unpacked
  in a temporary folder and moved into place at the end, so a failed download leaves no empty
  folder behind, even for a `--data-dir` that did not exist.
* **A pickle can run code.** `pickle.load` builds whatever object a file asks for, and a
  file can ask for `os.system`. Every file is read with `CifarUnpickler`, which can build only
  what a CIFAR-10 batch holds; anything else is refused before any of it runs.
* **Copies are welcome, and labelled.** A folder that is already there is used even if its
  files differ from the official ones (the JPEG copy of CIFAR-10 does); `official_files` tells
  which it was, and every run records it.
"""

import _compat_pickle
import hashlib
import pickle
import shutil
import socket
import tempfile
from pathlib import Path

import numpy as np

# Where torchvision downloads the python version from, and the archive's md5
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
FOLDER = "cifar-10-batches-py"
TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_FILE = "test_batch"
META_FILE = "batches.meta"

# The md5 of each file of the official folder (torchvision's `CIFAR10` checks the same ones).
OFFICIAL_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f", "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751", "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb", "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}


def missing_data_message(folder: Path, reason: str) -> str:
    r"""What is missing, where to put it, where to get it."""
    return (f"CIFAR-10 is not in {folder} and {reason}.\n"
            f"Get the python version of CIFAR-10 from\n    {URL}\n(md5 {ARCHIVE_MD5}) "
            f"and unpack it into {folder.parent}:\n"
            f"    mkdir -p {folder.parent} && tar xzf cifar-10-python.tar.gz -C {folder.parent}\n"
            f"so that {folder} holds {', '.join(TRAIN_FILES)}, {TEST_FILE} and {META_FILE}.")


#
# ## Finding and downloading
def find_cifar10(data_dir: Path, download: bool) -> Path:
    r"""
    The folder with the batches, `data_dir/cifar-10-batches-py`, downloading it first if it is
    not there and `download` is on.
    """
    folder = data_dir / FOLDER
    if folder.is_dir():
        return folder
    # `--data-dir data/cifar-10-batches-py` is one level too deep: never download a second copy into it
    if data_dir.name == FOLDER or (data_dir / TRAIN_FILES[0]).is_file():
        raise SystemExit(f"--data-dir {data_dir} is the {FOLDER} folder itself; give the folder that holds "
                         f"it: --data-dir {data_dir.parent}")
    if not download:
        raise SystemExit(missing_data_message(folder, "downloading is off (--no-download)"))
    from torchvision.datasets.utils import download_and_extract_archive
    # Without a timeout a download that cannot connect may wait forever
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(60)
    try:
        with tempfile.TemporaryDirectory(prefix="cifar10-") as scratch:
            # torchvision checks the archive's md5 before it unpacks anything
            download_and_extract_archive(URL, download_root=scratch, md5=ARCHIVE_MD5)
            if not (Path(scratch) / FOLDER).is_dir():
                raise SystemExit(missing_data_message(folder, "the downloaded archive did not contain it"))
            # The data has arrived: only now does `data_dir` get created
            data_dir.mkdir(parents=True, exist_ok=True)
            shutil.move(str(Path(scratch) / FOLDER), str(folder))
    except SystemExit:
        raise
    except Exception as error:  # no network, a refused connection, a bad checksum, a broken archive, a read-only disk
        raise SystemExit(missing_data_message(
            folder, f"could not be downloaded and stored ({type(error).__name__}: {error})")) from None
    finally:
        socket.setdefaulttimeout(previous_timeout)
    return folder


def official_files(folder: Path) -> bool:
    r"""Whether every file in `folder` is byte for byte the official one."""
    def md5(path: Path) -> str:
        with open(path, "rb") as f:
            return hashlib.md5(f.read()).hexdigest()
    return all((folder / name).is_file() and md5(folder / name) == digest for name, digest in OFFICIAL_MD5.items())


class Refused(pickle.UnpicklingError):
    r"""A file asked for something a CIFAR-10 batch never holds."""


class CifarUnpickler(pickle.Unpickler):
    r"""
    ## Reading a pickle safely

    A pickle reader that can build only what a CIFAR-10 batch holds: dicts, lists, strings,
    bytes and numbers, and from outside them only the numpy functions that rebuild an array.
    A file that names anything else (`os.system`, `builtins.eval`, any class) is refused when
    the name is read, before anything is called. We read every file this way, official or
    not: the same code path for every folder, and it costs nothing.
    """

    ALLOWED = {
        # numpy arrays, their dtypes and numpy scalars, as numpy 1 and numpy 2 name them
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    }

    def find_class(self, module: str, name: str):
        # The Python 3 name of what a Python 2 pickle calls `__builtin__.eval` or `commands.Popen`
        python3 = _compat_pickle.NAME_MAPPING.get(
            (module, name), (_compat_pickle.IMPORT_MAPPING.get(module, module), name))
        # Python 3 writes `bytes` into a protocol-2 pickle as `_codecs.encode(text, "latin1")`
        if python3 == ("_codecs", "encode"):
            return latin1_bytes
        if python3 not in self.ALLOWED:
            raise Refused(f"it asks for {'.'.join(python3)}, which a CIFAR-10 batch never holds")
        return super().find_class(*python3)


def latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    r"""`_codecs.encode`, for the one use a protocol-2 pickle of `bytes` makes of it."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise Refused(f"it asks for _codecs.encode with {encoding!r}, not the latin1 of bytes")
    return text.encode("latin1")


def unpickle(path: Path) -> dict:
    r"""
    A pickled dict with its keys as `str`, read with `CifarUnpickler`. The original batches were
    pickled by Python 2; `encoding="bytes"` reads them (keys `b"data"`), and files written by
    Python 3 too.
    """
    if not path.is_file():
        raise SystemExit(missing_data_message(path.parent, f"{path.name} is missing").replace(
            "CIFAR-10 is not in", "CIFAR-10 is incomplete in"))
    try:
        with open(path, "rb") as f:
            content = CifarUnpickler(f, encoding="bytes").load()
    except Refused as error:
        raise SystemExit(f"{path} was refused: {error}. Nothing in it was run. Replace it with the "
                         f"official file, or delete {path.parent} to download CIFAR-10 again.") from None
    except Exception as error:
        raise SystemExit(f"{path} is truncated or corrupt ({type(error).__name__}: {error}).\n"
                         f"Replace it, or delete {path.parent} to download CIFAR-10 again.") from None
    if not isinstance(content, dict):
        raise SystemExit(f"{path} is not a CIFAR-10 batch: it holds a {type(content).__name__}, not a dict")
    if not all(isinstance(key, (str, bytes)) for key in content):
        raise SystemExit(f"{path} is not a CIFAR-10 batch: its keys should be names, but they are "
                         f"{sorted({type(key).__name__ for key in content})}")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in content.items()}


#
# ## Checking a batch
def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    r"""Images `uint8` `[N, 3, 32, 32]` and labels `int64` `[N]` of one batch, after checking its structure."""
    batch = unpickle(path)
    if "data" not in batch or "labels" not in batch:
        raise SystemExit(f"{path} is not a CIFAR-10 batch: it has no 'data' or no 'labels' "
                         f"(its keys: {sorted(batch)})")
    try:
        images, labels = np.asarray(batch["data"]), np.asarray(batch["labels"])
    except ValueError as error:  # ragged lists
        raise SystemExit(f"{path} is not a valid CIFAR-10 batch: {error}") from None
    problem = None
    if images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != 3 * 32 * 32:
        problem = f"'data' should be uint8 [N, 3072], but it is {images.dtype} {list(images.shape)}"
    elif labels.shape != (images.shape[0],):
        problem = f"{images.shape[0]} images but labels of shape {list(labels.shape)}"
    elif images.shape[0] == 0:
        problem = "it holds no images"
    elif labels.dtype.kind not in "iu":
        problem = f"'labels' should be integers, but they are {labels.dtype}"
    elif labels.min() < 0 or labels.max() > 9:
        problem = f"labels should be 0…9, but they range over {labels.min()}…{labels.max()}"
    if problem:
        raise SystemExit(f"{path} is not a valid CIFAR-10 batch: {problem}")
    return images.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def read_label_names(folder: Path) -> list[str]:
    r"""The ten class names in `batches.meta`: airplane, automobile, …, truck."""
    names = unpickle(folder / META_FILE).get("label_names")
    if not isinstance(names, list) or len(names) != 10 or not all(isinstance(n, (str, bytes)) for n in names):
        raise SystemExit(f"{folder / META_FILE} is not CIFAR-10's: it should name 10 classes")
    return [n.decode("latin1") if isinstance(n, bytes) else n for n in names]


#
# ## Loading
def load_everywhere(world, data_dir: Path, download: bool, validation: int, limit_train: int,
                    limit_test: int) -> dict[str, np.ndarray]:
    r"""
    `load_cifar10` in every process of `world` (a `World`): the first process downloads
    CIFAR-10 if it is missing while the others wait, then each reads it from disk.
    """
    if world.is_main:
        find_cifar10(Path(data_dir), download)
    world.barrier()
    return load_cifar10(Path(data_dir), download, validation, limit_train, limit_test)


def load_cifar10(data_dir: Path, download: bool = True, validation: int = 0, limit_train: int = 0,
                 limit_test: int = 0) -> dict[str, np.ndarray]:
    r"""
    The training, validation and test images (`uint8` `[N, 3, 32, 32]`) and labels (`[N]`).
    `validation` holds out the last training images (the paper's 45k/5k split); `limit_train`
    and `limit_test` keep only the first images (0: all).
    """
    folder = find_cifar10(Path(data_dir), download)
    read_label_names(folder)
    train = [read_batch(folder / name) for name in TRAIN_FILES]
    train_images = np.concatenate([images for images, _ in train])
    train_labels = np.concatenate([labels for _, labels in train])
    test_images, test_labels = read_batch(folder / TEST_FILE)
    if validation >= len(train_images):
        raise SystemExit(f"--validation {validation} leaves no training images (there are {len(train_images)})")
    keep = len(train_images) - validation
    arrays = dict(train_images=train_images[:keep], train_labels=train_labels[:keep],
                  val_images=train_images[keep:], val_labels=train_labels[keep:],
                  test_images=test_images, test_labels=test_labels)
    if limit_train:
        arrays["train_images"], arrays["train_labels"] = train_images[:min(limit_train, keep)], train_labels[:min(limit_train, keep)]
    if limit_test:
        arrays["test_images"], arrays["test_labels"] = test_images[:limit_test], test_labels[:limit_test]
    return {name: np.ascontiguousarray(array) for name, array in arrays.items()}
