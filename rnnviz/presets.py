"""One-click lecture presets: a sample text and the settings that make one point clearly.

The settings were chosen by measurement (see benchmarks/ and the closing notes): e.g. with
ρ(W) = 2 and plain SGD at η = 0.03 the loss per token stays above 20 nats without clipping and
falls to about 3 with norm clipping at 5, on the same text and the same initial weights.
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
        TrainConfig(hidden_size=64, seq_len=25, optimizer="adagrad", lr=0.1, clip="elementwise", clip_value=5.0),
        "Very regular text: within a few hundred steps the loss falls far below the untrained "
        "baseline ln V and the samples repeat the patterns.",
    ),
    Preset(
        "vanishing", "Vanishing gradients", "recall_first_char",
        TrainConfig(hidden_size=64, seq_len=40, init="orthogonal", spectral_radius=0.5,
                    optimizer="adagrad", lr=0.1, clip="elementwise", clip_value=5.0),
        "ρ(W) = 0.5 and a 40-step window: the gradient reaching early time steps shrinks about "
        "0.5× per step back (switch the per-step chart to log scale). The closing letter of each "
        "line needs the first one, 20-40 steps back, and it is not learned.",
    ),
    Preset(
        "exploding", "Exploding gradients", "english_prose",
        TrainConfig(hidden_size=64, seq_len=40, init="orthogonal", spectral_radius=2.0,
                    optimizer="sgd", lr=0.03, clip="none"),
        "ρ(W) = 2 and no clipping: gradient norms spike into the thousands, and the loss jumps far "
        "above the untrained baseline instead of falling.",
    ),
    Preset(
        "clipping", "Clipping rescues it", "english_prose",
        TrainConfig(hidden_size=64, seq_len=40, init="orthogonal", spectral_radius=2.0,
                    optimizer="sgd", lr=0.03, clip="norm", clip_value=5.0),
        "The same weights, text and learning rate as 'Exploding gradients', with the global "
        "gradient norm clipped to 5: the red clipping marks fire, and the loss now falls.",
    ),
    Preset(
        "word", "Word-level", "word_level_small_vocab",
        TrainConfig(level="word", hidden_size=64, seq_len=12, truncate=4, optimizer="adagrad", lr=0.1,
                    clip="elementwise", clip_value=5.0),
        "Tokens are words and punctuation; truncated BPTT with k = 4 as in the word-level "
        "tutorial. Samples become grammatical sentences of the small vocabulary.",
    ),
    Preset(
        "longmem", "Long memory: RNN vs LSTM vs GRU", "recall_first_char",
        LONGMEM_CONFIG.with_changes(cell="gru"),
        "Each line closes with the marker it opened with, 20-40 characters earlier. Open the Lab, choose "
        "\"Cell: RNN vs LSTM vs GRU\" and play the race: within a few hundred steps the GRU recalls the marker "
        "almost every time while the vanilla RNN stays near chance (25%).",
        lab_choice="cell",
    ),
)

PRESETS_BY_KEY = {p.key: p for p in PRESETS}
DEFAULT_SAMPLE = "english_prose"
DEFAULT_CONFIG = TrainConfig()   # min-char-rnn's choices: H=100, T=25, Adagrad η=0.1, clip ±5
