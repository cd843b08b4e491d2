"""How the Convolution page's kernel slides: stride, padding and dilation, checked like Keras.

A module, not the page: a page script runs again on every rerun, and a dataclass made there is
built anew each time (~4 % of a /convolution rerun)."""
from __future__ import annotations

from dataclasses import dataclass

from cnnviz import conv_arithmetic


@dataclass(frozen=True)
class Slide:
    stride: int
    padding: str | int
    dilation: int

    def describe(self) -> str:
        pad = f"padding {self.padding}" if isinstance(self.padding, int) else f"'{self.padding}' padding"
        return f"stride {self.stride}, {pad}, dilation {self.dilation}"

    def check(self, shape, kshape) -> None:
        """ValueError with a readable message when Keras would refuse it or the output is empty."""
        if self.stride > 1 and self.dilation > 1:
            raise ValueError("Keras's Conv2D does not allow a stride above 1 together with a dilation "
                             "above 1: set one of them back to 1.")
        for n, k in zip(shape[:2], kshape):
            conv_arithmetic.output_size(n, k, self.stride, self.padding, self.dilation)

    def formula(self, axis: str, n: int, k: int, pads: tuple[int, int], o: int) -> str:
        """The output-size formula with these numbers in it, as plain text (no TeX to load)."""
        s, d = self.stride, self.dilation
        pad = f"2·{pads[0]}" if pads[0] == pads[1] else f"({pads[0]} + {pads[1]})"
        return f"o({axis}) = ⌊({n} + {pad} − {k} − ({k}−1)·({d}−1)) / {s}⌋ + 1 = {o}"
