import numpy as np
import scipy.sparse as sp
from lightfm import LightFM

from models.hybrid import HybridModel, with_one


def _problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    users = sp.csr_matrix(rng.random((30, 6)) * (rng.random((30, 6)) > 0.5), dtype=np.float32)
    items = sp.csr_matrix(rng.random((20, 5)) * (rng.random((20, 5)) > 0.5), dtype=np.float32)
    pairs = sp.coo_matrix((np.ones(40), (rng.integers(0, 30, 40), rng.integers(0, 20, 40))), shape=(30, 20))
    pairs.sum_duplicates()
    return pairs, users, items


def test_representations_reproduce_lightfm_scores() -> None:
    pairs, users, items = _problem()
    model = HybridModel(no_components=4, epochs=3).fit(pairs, users, items)
    reference = LightFM(no_components=4)
    reference.fit(pairs, user_features=users, item_features=items, epochs=1)
    reference.user_embeddings, reference.user_biases = model.user_embeddings_, model.user_biases_
    reference.item_embeddings, reference.item_biases = model.item_embeddings_, model.item_biases_
    expected = reference.predict(
        np.repeat(np.arange(30), 20), np.tile(np.arange(20), 30), user_features=users, item_features=items
    )
    ours = model.user_representations(users) @ model.item_representations(items).T
    assert np.allclose(ours.ravel(), expected, atol=1e-4)


def test_normalised_scores_are_standardised_per_user() -> None:
    pairs, users, items = _problem(1)
    model = HybridModel(no_components=4, epochs=3).fit(pairs, users, items)
    z = model.normalised_user_representations(users) @ with_one(model.item_representations(items)).T
    assert np.allclose(z.mean(axis=1), 0.0, atol=1e-3)
    assert np.allclose(z.std(axis=1, ddof=1), 1.0, atol=1e-2)


def test_learned_arrays_finite_and_params() -> None:
    pairs, users, items = _problem(2)
    model = HybridModel(no_components=4, epochs=2, random_state=3)
    assert model.get_params()["random_state"] == 3
    model.fit(pairs, users, items, sample_weight=np.full(pairs.nnz, 2.0))
    assert all(np.isfinite(a).all() for a in model.learned_arrays().values())
