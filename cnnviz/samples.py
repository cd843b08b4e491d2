"""The sample pictures bundled with cnnviz (pretrained/samples/, listed in samples.json)."""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from cnnviz import data as datasets
from cnnviz import resources
from cnnviz.images import Picture
from cnnviz.uploads import load_image

__all__ = ["DEFAULT_SAMPLE", "SAMPLES", "Sample", "load_sample"]

#: The folder of the bundled sample images and their index, samples.json.
SAMPLES_DIR = resources.samples_dir()


@dataclass(frozen=True)
class Sample:
    """One entry of pretrained/samples/samples.json."""
    name: str        # key, e.g. "mnist-3"
    file: str        # file name inside SAMPLES_DIR
    title: str       # for people: "Handwritten 3"
    dataset: str | None   # the dataset's key ("mnist", ...); None for pictures drawn for cnnviz
    label: str       # the dataset's label ("3", "ankle boot", "cat"); "" when none
    source: str      # licence and source


def _read_samples() -> dict[str, Sample]:
    index = SAMPLES_DIR / "samples.json"
    try:
        entries = json.loads(index.read_text(encoding="utf-8"))["samples"]
    except (ValueError, KeyError) as e:
        raise resources.MissingDataError(f"{index} is not a valid sample index ({e!r}).") from e
    if not entries:
        raise resources.MissingDataError(f"{index} lists no samples.")
    return {e["name"]: _sample(e, index) for e in entries}


def _sample(entry: dict, index) -> Sample:
    """One index entry; its "dataset" is a dataset's title ("MNIST") or "cnnviz"."""
    fields = {k: entry.get(k, "") for k in Sample.__dataclass_fields__}
    title = fields["dataset"]
    ds = datasets.by_title(title)
    if ds is None and title != "cnnviz":
        raise resources.MissingDataError(f"{index}: sample {entry.get('name')!r} names an unknown "
                                         f"dataset {title!r}.")
    return Sample(**{**fields, "dataset": ds.key if ds else None})


#: name -> Sample, in display order (digits, fashion, photos, shapes).
SAMPLES: dict[str, Sample] = _read_samples()
#: The sample pre-selected when a visitor arrives: a handwritten digit with curves.
DEFAULT_SAMPLE = "mnist-3"


@functools.lru_cache(maxsize=64)
def load_sample(name: str) -> Picture:
    """The Picture of a bundled sample (KeyError names the samples that exist)."""
    if name not in SAMPLES:
        raise KeyError(f"no sample {name!r}; samples: {', '.join(SAMPLES)}")
    sample = SAMPLES[name]
    pic = load_image((SAMPLES_DIR / sample.file).read_bytes(), name=f"sample: {sample.title}",
                     source="sample")
    if sample.dataset is None:
        note = "drawn for cnnviz"
    else:
        note = (f"{datasets.TABLE[sample.dataset].title} test image"
                + (f", labelled “{sample.label}”" if sample.label else ""))
    return Picture(pic.pixels, pic.name, (note,) + pic.notes, "sample", sample.dataset)
