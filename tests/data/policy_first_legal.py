"""A stand-in for a trained policy, for the tests: the lowest-numbered available option,
chosen from the action mask the environments give."""

import numpy as np


def act(observation: np.ndarray, action_mask: np.ndarray) -> np.ndarray:
    assert observation.ndim == 2 and observation.dtype == np.float32
    return np.argmax(action_mask, axis=1)


def wrong(observation: np.ndarray, action_mask: np.ndarray) -> np.ndarray:
    return np.argmin(action_mask, axis=1)  # an option that is not available
