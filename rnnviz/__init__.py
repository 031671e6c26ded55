"""rnnviz: a step-able NumPy RNN language model, instrumented for teaching BPTT.

The engine needs NumPy only (pandas for ``History.frame`` on demand); it never imports
Streamlit or plotly.
"""

from rnnviz.bptt import LossResult, gradient_reach, gradient_reaches, loss_and_grads
from rnnviz.cells import CELLS, get_cell
from rnnviz.checkpoint import load_checkpoint, save_checkpoint
from rnnviz.clip import CLIP_MODES, clip_gradients
from rnnviz.config import LIVE_FIELDS, TrainConfig
from rnnviz.gradcheck import gradient_check
from rnnviz.optim import OPTIMIZERS, make_optimizer
from rnnviz.params import PARAM_NAMES, init_params, spectral_radius_of
from rnnviz.sample import hidden_states, sample
from rnnviz.tokenize import CharTokenizer, WordTokenizer, make_tokenizer
from rnnviz.trainer import Divergence, StepRecord, Trainer

__all__ = [
    "CELLS", "CLIP_MODES", "LIVE_FIELDS", "OPTIMIZERS", "PARAM_NAMES",
    "CharTokenizer", "Divergence", "LossResult", "StepRecord", "TrainConfig", "Trainer", "WordTokenizer",
    "clip_gradients", "get_cell", "gradient_check", "gradient_reach", "gradient_reaches", "hidden_states",
    "init_params", "load_checkpoint", "loss_and_grads", "make_optimizer", "make_tokenizer", "sample",
    "save_checkpoint", "spectral_radius_of",
]
