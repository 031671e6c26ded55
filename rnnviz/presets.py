"""One-click lecture presets: a sample text and the settings that make one point clearly.

Each preset's point is measured through the engine and asserted in tests/test_presets.py (properties
with margins, not trajectories): the learning presets never rise above ln V + 0.1 in their first 20
steps and end far below it; on *Vanishing* a loss term's gradient is below 1/100 ten steps back; on
*Exploding* it is above 10×, and the loss stays above ln V; *Clipping* starts from the same weights
and learns. Why these settings (measured over seeds 0-5, see the README's lecture plan):
- Adam at η = 0.01 (0.005 word-level) instead of Adagrad at η = 0.1: Adagrad's first updates move
  every weight by about η, which lifted the loss to twice ln V in the first three steps.
- Exploding and Clipping use *Recall the first character* with ρ(W) = 3, T = 25 and plain SGD at
  η = 0.1: a loss term's gradient grows 13-33× over ten steps back at the start, and the clipped run
  ends 1.25-1.34 nats below ln V at step 300 on every seed tried. (With ρ = 2 on English prose it
  grew only ~6×; with ρ ≥ 2.5 there the clipped run stayed near ln V for 300 steps: the saturated
  state learns little more than letter frequencies, which on that text are < 1 nat below ln V.)
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnviz.config import TrainConfig
from rnnviz.race import LONGMEM_CONFIG


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    sample: str           # stem of a file in sample_texts/
    config: TrainConfig
    notice: str           # what to look at, in one or two sentences, for the lecture
    lab_choice: str = "clip"  # what the Lab's twin run compares when this preset is loaded


PRESETS: tuple[Preset, ...] = (
    Preset(
        "quick", "Learns quickly", "counting",
        TrainConfig(hidden_size=64, seq_len=25, optimizer="adam", lr=0.01, clip="elementwise", clip_value=5.0),
        "Very regular text: watch the loss curve fall from the dashed grey line ln V towards zero within a few "
        "hundred steps, and the samples start repeating the patterns.",
    ),
    Preset(
        "vanishing", "Vanishing gradients", "recall_first_char",
        TrainConfig(hidden_size=64, seq_len=40, init="orthogonal", spectral_radius=0.5,
                    optimizer="adam", lr=0.005, clip="elementwise", clip_value=5.0),
        "ρ(W) = 0.5 and a 40-step window. Watch the chart of how much of a loss term's gradient is left d "
        "steps back: its verdict line gives the fall in numbers. Each line's closing letter needs its first "
        "one, 20-40 steps back: in the window view, see how sure the model is of those letters.",
    ),
    Preset(
        "exploding", "Exploding gradients", "recall_first_char",
        TrainConfig(hidden_size=64, seq_len=25, init="orthogonal", spectral_radius=3.0,
                    optimizer="sgd", lr=0.1, clip="none"),
        "ρ(W) = 3 and no clipping. Before the first Step the gradient chart rises going back; then watch "
        "the gradient norm and the loss, which stays above the dashed grey line ln V.",
    ),
    Preset(
        "clipping", "Clipping rescues it", "recall_first_char",
        TrainConfig(hidden_size=64, seq_len=25, init="orthogonal", spectral_radius=3.0,
                    optimizer="sgd", lr=0.1, clip="norm", clip_value=5.0),
        "The same text, first weights and learning rate as 'Exploding gradients', with the global gradient "
        "norm clipped to 5: the red ticks show clipping at work; press Step ×10 a few times to see the loss fall "
        "below the dashed grey line ln V.",
    ),
    Preset(
        "word", "Word-level", "word_level_small_vocab",
        TrainConfig(level="word", hidden_size=64, seq_len=12, truncate=4, optimizer="adam", lr=0.005,
                    clip="elementwise", clip_value=5.0),
        "Tokens are words and punctuation; truncated BPTT with k = 4 as in the word-level tutorial. "
        "Samples become sentences of the small vocabulary.",
    ),
    Preset(
        "longmem", "Long memory: RNN vs LSTM vs GRU", "recall_first_char",
        LONGMEM_CONFIG,
        "Each line closes with the marker it opened with, 20-40 characters earlier; the vanilla RNN trains here. "
        "Open the race page (The race: who remembers?) and press Play the race: the gated cells learn to pick the "
        "right closing marker while the vanilla RNN stays near chance (25%).",
        lab_choice="truncate",
    ),
)

PRESETS_BY_KEY = {p.key: p for p in PRESETS}
DEFAULT_SAMPLE = "english_prose"
# The app's first model: min-char-rnn's H = 100, T = 25 and clipping ±5, but Adam at η = 0.005 instead of its Adagrad
# at η = 0.1, whose first updates move every weight by about η and lift the loss to about twice ln V before it
# falls (a newcomer's first Steps must make the point: the loss falls). Measured on seeds 0-5: never above the
# first window's loss in the first 20 steps, 18-20% below ln V after 20 (tests/test_presets.py).
DEFAULT_CONFIG = TrainConfig(optimizer="adam", lr=0.005)
