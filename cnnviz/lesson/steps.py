"""The lesson's steps in order: what each explains, and what to try on which page (prose)."""
from __future__ import annotations

from dataclasses import dataclass

@dataclass(frozen=True)
class Step:
    key: str
    title: str
    text: str                     # Markdown, a few sentences
    try_page: str                 # the url_path of the page to open ("index" = Home)
    try_params: tuple[tuple[str, str], ...]   # its settings, as the page's URL parameters
    try_label: str                # the link's text
    try_hint: str                 # what to look at there

    @property
    def try_query(self) -> dict[str, str]:
        return dict(self.try_params)


STEPS: tuple[Step, ...] = (
    Step("numbers", "The image as numbers",
         "A computer never sees a picture, only a grid of numbers. A grey image of 28 × 28 pixels "
         "is 784 numbers, one brightness per pixel, from 0 (black) to 255 (white). A colour image "
         "stacks three such grids, for red, green and blue, so it holds height × width × 3 "
         "numbers. Networks are usually given these numbers divided by 255, so they run from 0 "
         "to 1. Everything a CNN does after this is arithmetic on that grid.",
         "index", (("image", "cifar-cat"), ("channel", "green"), ("zoom", "8")),
         "A colour photo as numbers", "Home shows the cat photo's green grid, 8 × 8 pixels at a time. "
         "Switch the colour channel and watch the same pixels change value."),
    Step("convolution", "Convolution",
         "A convolution slides a small grid of weights, the **kernel**, across the image. At each "
         "position it multiplies the pixels under the kernel by the weights at the same places "
         "and adds up the products: that sum is one value of the output, the **feature map**. A "
         "kernel that weighs the right-hand column positively and the left-hand one negatively "
         "gives large values where brightness changes from left to right, so it finds vertical "
         "edges. The **stride** is how many pixels the kernel jumps each time; **padding** puts "
         "zeros around the border so the kernel can also be centred on edge pixels. Without "
         "padding (*valid*) a side of n pixels gives ⌊(n − k) / s⌋ + 1 outputs; Keras's *same* "
         "padding gives ⌈n / s⌉. In a CNN nobody chooses the weights: training finds them.",
         "convolution", (("kernel", "sobel-x"), ("stride", "2"), ("padding", "same")),
         "Sobel x with stride 2 and same padding", "The feature map is half the size of the "
         "picture, and the vertical edges light up: red on one side of a stroke, blue on the other."),
    Step("activation", "Activation",
         "After each convolution, a simple non-linear function is applied to every value on its "
         "own. Without it, two convolutions in a row would amount to one larger convolution, and "
         "a deep network would be no better than a shallow one. **ReLU**, max(0, x), keeps "
         "positive values and turns negative ones into 0; it is cheap, and its slope is 1 "
         "wherever it lets values through. Older networks used **sigmoid** or **tanh**, which "
         "squeeze every input into a narrow range: their slope is small almost everywhere. "
         "Training multiplies these slopes layer after layer on the way back, so with many "
         "sigmoid layers the gradient that reaches the first layers nearly vanishes.",
         "activations", (("functions", "relu,sigmoid"), ("x0", "-3")),
         "ReLU and sigmoid, read at x = −3", "The table gives each function's value and slope at "
         "−3; the lower section shows how the gradient shrinks through 20 sigmoid layers."),
    Step("pooling", "Pooling",
         "A **pooling** layer makes each feature map smaller. It cuts the map into small windows, "
         "usually 2 × 2, and keeps one number per window: the largest (*max pooling*) or the "
         "mean (*average pooling*). Afterwards the network knows that a feature is *around here* "
         "rather than at exactly this pixel, so small shifts of the picture matter less. Smaller "
         "maps also mean less work and fewer weights in the layers that follow. Pooling has "
         "nothing to learn, and it shrinks the height and width of a map but never the number "
         "of channels.",
         "pooling", (("mode", "max"), ("size", "4")),
         "Max pooling with a 4 × 4 window", "The 28 × 28 map shrinks to 7 × 7; pick a window to "
         "see its 16 values and the one that wins. Then try 2 × 2 and average pooling."),
    Step("dropout", "Dropout",
         "A network can **overfit**: learn its training pictures by heart instead of what they "
         "have in common. Dropout works against that. At every training step a dropout layer "
         "with rate r sets each value passing through it to 0 with probability r, choosing anew "
         "each time, so no unit can rely on one particular other unit being there. The values "
         "it keeps are multiplied by 1 / (1 − r), so that their total stays the same on average. "
         "Once the network is trained and used to predict (*inference*), dropout does nothing.",
         "pooling", (("dropout", "0.25"), ("dropout_mode", "training")),
         "Dropout with rate 0.25", "At the bottom of the page: the mask of kept units and the "
         "scale of the survivors. Press *New random mask* a few times, then switch to inference."),
    Step("dense", "Fully connected layers",
         "At the end, the feature maps are **flattened** into one long list of numbers and "
         "passed to **fully connected** (Dense) layers. Each unit of a Dense layer has its own "
         "weight for every number it receives, plus one bias; it outputs their weighted sum "
         "(followed by an activation). The last Dense layer has one unit per class, and softmax "
         "turns its scores into probabilities that add up to 1. Because every input meets every "
         "unit, the Dense layers hold most of the parameters of a small CNN.",
         "network", (("net", "mnist"), ("layer", "dense1")),
         "The digit network's first Dense layer", "Its 128 units, each computed from all 1,600 "
         "numbers of the flattened 5 × 5 × 64 map; further down, the 10 class scores."),
    Step("network", "A whole network",
         "A CNN stacks these pieces: convolution, activation and pooling, repeated a few times, "
         "usually with more channels and smaller maps at each stage; then Flatten and Dense "
         "layers. The first layers respond to edges and blobs, later ones combine those into "
         "parts such as loops, corners or wheels. To know how big each map is, follow the shape "
         "through the stack: a convolution sets the number of channels to its number of "
         "filters and changes height and width as its kernel, stride and padding say; pooling "
         "divides height and width; Flatten multiplies height × width × channels.",
         "train", (("net", "C~f8~arelu_M_C~f16~arelu_M_F"),),
         "Build a network and read its shapes", "The Train page asks Keras for the output shape "
         "and parameter count of every layer as you add, remove or change layers."),
    Step("training", "Training",
         "Training starts from random weights. The network answers a **batch** of training "
         "pictures, a **loss** measures how wrong the answers were, and back-propagation works "
         "out for every weight how the loss would change if that weight changed (its "
         "**gradient**). The optimizer then moves every weight a little against its gradient. "
         "One such update is a **step**; one pass over all the training pictures is an "
         "**epoch**. Some pictures are kept aside for **validation**: when the training loss "
         "keeps falling but the validation loss rises, the network has started to memorise, and "
         "it is time to stop, or to add dropout or more data.",
         "train", (("data", "mnist"), ("epochs", "3"), ("batch", "64")),
         "Train a small CNN on digits", "Three epochs in batches of 64: watch the training and "
         "validation curves, and the first layer's filters take shape."),
)
