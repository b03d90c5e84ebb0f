"""The LightFM hybrid: embeddings of feature tokens, trained with WARP on weighted positive pairs.

Only the learned token embeddings and biases are kept. Representations of any graduate or vacancy are
``features @ embeddings`` (what ``LightFM.get_user_representations`` does), computed once per index, so
serving never calls ``LightFM.predict`` (which rebuilds every item from its features on each call).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from tqdm.auto import tqdm


class NonFiniteModel(ArithmeticError):
    """Training produced NaN or infinite parameters."""


class HybridModel(BaseEstimator):
    """A LightFM model over feature tokens only (no identity features).

    Parameters
    ----------
    no_components, loss, learning_rate, item_alpha, user_alpha, max_sampled, epochs
        Passed to LightFM.
    random_state
        Seed of LightFM's sampler.
    num_threads
        LightFM threads; results are reproducible only with 1.
    """

    def __init__(
        self,
        no_components: int = 32,
        loss: str = "warp",
        learning_rate: float = 0.05,
        item_alpha: float = 1e-6,
        user_alpha: float = 1e-6,
        max_sampled: int = 10,
        epochs: int = 20,
        random_state: int = 7,
        num_threads: int = 1,
    ) -> None:
        self.no_components = no_components
        self.loss = loss
        self.learning_rate = learning_rate
        self.item_alpha = item_alpha
        self.user_alpha = user_alpha
        self.max_sampled = max_sampled
        self.epochs = epochs
        self.random_state = random_state
        self.num_threads = num_threads

    def fit(
        self,
        interactions: sp.coo_matrix,
        user_features: sp.csr_matrix,
        item_features: sp.csr_matrix,
        *,
        sample_weight: np.ndarray | None = None,
        progress: bool = False,
        description: str = "LightFM",
    ) -> HybridModel:
        """Fit on ``interactions`` (users x items, 1 where positive) with per-pair ``sample_weight``."""
        from lightfm import LightFM

        interactions = sp.coo_matrix(interactions, dtype=np.float32)
        weights = None
        if sample_weight is not None:
            weights = sp.coo_matrix(
                (np.asarray(sample_weight, dtype=np.float32), (interactions.row, interactions.col)),
                shape=interactions.shape,
            )
        model = LightFM(
            no_components=self.no_components,
            loss=self.loss,
            learning_rate=self.learning_rate,
            item_alpha=self.item_alpha,
            user_alpha=self.user_alpha,
            max_sampled=self.max_sampled,
            random_state=np.random.RandomState(self.random_state),
        )
        user_features = sp.csr_matrix(user_features, dtype=np.float32)
        item_features = sp.csr_matrix(item_features, dtype=np.float32)
        for _ in tqdm(range(self.epochs), desc=description, disable=not progress, leave=False):
            model.fit_partial(
                interactions,
                user_features=user_features,
                item_features=item_features,
                sample_weight=weights,
                epochs=1,
                num_threads=self.num_threads,
            )
        self.user_embeddings_ = np.asarray(model.user_embeddings, dtype=np.float32).copy()
        self.user_biases_ = np.asarray(model.user_biases, dtype=np.float32).copy()
        self.item_embeddings_ = np.asarray(model.item_embeddings, dtype=np.float32).copy()
        self.item_biases_ = np.asarray(model.item_biases, dtype=np.float32).copy()
        for name, array in self.learned_arrays().items():
            if not np.all(np.isfinite(array)):
                raise NonFiniteModel(f"LightFM learned non-finite values in {name}")
        # Reference distributions for per-user / per-item normalisation of scores.
        self.item_ref_mean_, self.item_ref_cov_ = _moments(self.item_representations(item_features))
        self.user_ref_mean_, self.user_ref_cov_ = _moments(self.user_representations(user_features))
        return self

    def learned_arrays(self) -> dict[str, np.ndarray]:
        return {
            "user_embeddings": self.user_embeddings_,
            "user_biases": self.user_biases_,
            "item_embeddings": self.item_embeddings_,
            "item_biases": self.item_biases_,
        }

    def user_representations(self, features: sp.csr_matrix) -> np.ndarray:
        """``[features @ E_u, features @ b_u, 1]``; a dot with an item representation is LightFM's score."""
        emb = np.asarray(features @ self.user_embeddings_, dtype=np.float32)
        bias = np.asarray(features @ self.user_biases_, dtype=np.float32).reshape(-1, 1)
        return np.hstack([emb, bias, np.ones_like(bias)])

    def item_representations(self, features: sp.csr_matrix) -> np.ndarray:
        """``[features @ E_i, 1, features @ b_i]``."""
        emb = np.asarray(features @ self.item_embeddings_, dtype=np.float32)
        bias = np.asarray(features @ self.item_biases_, dtype=np.float32).reshape(-1, 1)
        return np.hstack([emb, np.ones_like(bias), bias])

    def normalised_user_representations(self, features: sp.csr_matrix) -> np.ndarray:
        """User representations whose dot with ``[item_rep, 1]`` is the score standardised per user.

        The mean and spread are over the training items, so the result is comparable across users for
        one item (plain LightFM scores are comparable only across items for one user).
        """
        reps = self.user_representations(features).astype(np.float64)
        return _standardise(reps, self.item_ref_mean_, self.item_ref_cov_)

    def normalised_item_representations(self, features: sp.csr_matrix) -> np.ndarray:
        """Item representations whose dot with ``[user_rep, 1]`` is the score standardised per item."""
        reps = self.item_representations(features).astype(np.float64)
        return _standardise(reps, self.user_ref_mean_, self.user_ref_cov_)


def _moments(reps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    reps = reps.astype(np.float64)
    if len(reps) < 2:
        return reps.mean(axis=0) if len(reps) else np.zeros(reps.shape[1]), np.eye(reps.shape[1])
    return reps.mean(axis=0), np.cov(reps, rowvar=False)


def _standardise(reps: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    centre = reps @ mean
    spread = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", reps, cov, reps), 0.0)) + 1e-6
    return np.hstack([reps / spread[:, None], (-centre / spread)[:, None]]).astype(np.float32)


def with_one(reps: np.ndarray) -> np.ndarray:
    """Append a column of ones (the partner of a normalised representation's offset column)."""
    return np.hstack([reps, np.ones((len(reps), 1), dtype=reps.dtype)])
