"""The face map: every face placed in 2-D by how the model sees it (its penultimate layer).

Faces the model finds alike land close together, so a neighbourhood of one colour with a
few dots of another shows faces whose label disagrees with all their look-alikes: the same
suspicion as the audit's, drawn. Computed once per model and faces, then read from disk.

Why t-SNE (scikit-learn) by default, measured on the 3,589 PublicTest faces (512 features of
the shipped model) on this 2-core machine with a training running beside it: t-SNE after PCA
to 50 dimensions took 70 s at 500 iterations (117 s at 1,000, no better), and among each
face's 10 nearest neighbours on the map 55.1% share its label, as many as in the 512-d
features themselves (55.4%): the map keeps the model's neighbourhoods. PCA to 2-D takes 1 s
but keeps fewer (48.6%) and piles the classes on top of each other. UMAP is not installed
here. PCA stays available for a quick look.
"""

import numpy as np

from emotion_core.errors import AuditError

METHODS = ("tsne", "pca")
DEFAULT_METHOD = "tsne"
TSNE_MAX_FACES = 8000  # t-SNE's time grows faster than n: FER2013's 28,709 training faces would take ~10 min here
TSNE_ITERATIONS = 500  # 1000 (the default) doubles the time and barely moves the islands
_PCA_FIRST = 50  # t-SNE on 50 principal components: the usual preprocessing, and 10x less distance work


def project(features, *, method=DEFAULT_METHOD, seed=0):
    """Place n feature vectors in 2-D.

    Args:
        features: float (n, d). method: one of METHODS.
    Returns:
        float32 (n, 2), each axis centred and scaled to unit standard deviation (so a plot's
        axes mean nothing in particular, which is the truth for t-SNE).
    """
    from sklearn.decomposition import PCA

    if method not in METHODS:
        raise AuditError(f"unknown map method {method!r}; use one of {', '.join(METHODS)}")
    features = np.asarray(features, dtype=np.float32).reshape(len(features), -1)
    if len(features) < 3:
        raise AuditError(f"a face map needs at least 3 faces, not {len(features)}")
    components = min(_PCA_FIRST if method == "tsne" else 2, *features.shape)
    reduced = PCA(components, random_state=seed).fit_transform(features)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(30.0, (len(features) - 1) / 3)  # t-SNE needs perplexity < n
        reduced = TSNE(2, perplexity=perplexity, init="pca", max_iter=TSNE_ITERATIONS, random_state=seed,
                       n_jobs=2).fit_transform(reduced)
    xy = np.zeros((len(features), 2), np.float32)
    xy[:, :reduced.shape[1]] = reduced
    spread = xy.std(axis=0)
    return ((xy - xy.mean(axis=0)) / np.where(spread > 0, spread, 1)).astype(np.float32)


def method_for(n):
    """The projection for a map of n faces: t-SNE, or PCA beyond TSNE_MAX_FACES (a minute, not ten)."""
    return DEFAULT_METHOD if n <= TSNE_MAX_FACES else "pca"


def face_map(ref, dataset, *, method=None, model=None, progress=None):
    """The 2-D map of `dataset`'s faces as model `ref` sees them, and its probabilities.

    Computed once per model file, faces and method, then read from the disk cache
    (`settings.cache_dir()/audit`).

    Args:
        ref: a run folder, .keras file or `default`. dataset: the faces (n).
        method: one of METHODS; None: `method_for(n)`.
        model: the loaded model, when the caller has it.
        progress: optional callable(fraction in [0, 1], message).
    Returns:
        (float32 (n, 2) positions, float32 (n, 7) probabilities).
    """
    from emotion_core.audit.model import cache_file, outputs_for, read_cached, write_cached

    method = method or method_for(len(dataset))
    path = cache_file("map", ref, dataset, method)
    hit = read_cached(path)
    if hit is not None and hit["xy"].shape == (len(dataset), 2):
        return hit["xy"], hit["probabilities"]
    say = progress or (lambda fraction, message: None)
    features, probabilities = outputs_for(ref, dataset, model=model, progress=lambda done, total: say(
        0.5 * done / total, f"Reading the model's view of {done:,}/{total:,} faces"))
    say(0.5, f"Placing {len(dataset):,} faces on the map ({method}; about a minute for 3,600 faces)")
    xy = project(features, method=method)
    write_cached(path, xy=xy, probabilities=probabilities)
    say(1.0, "Map ready")
    return xy, probabilities


COLOUR_BY = ("label", "prediction", "crowd", "flag")


def map_groups(by, *, labels, probabilities, majority=None, flagged=None):
    """What each dot of the map is coloured by: an emotion's name, or flagged / not flagged / no votes.

    Args:
        by: one of COLOUR_BY. labels: int (n,). probabilities: float (n, 7).
        majority: int (n,) the crowd's majority (NO_MAJORITY without votes), for `crowd`.
        flagged: bool (n,) the audit's flags, for `flag`.
    Returns:
        object array (n,) of group names.
    """
    from emotion_core.data.crowd import NO_MAJORITY
    from emotion_core.labels import EMOTIONS

    names = np.asarray(EMOTIONS, dtype=object)
    if by == "label":
        return names[np.asarray(labels)]
    if by == "prediction":
        return names[np.asarray(probabilities).argmax(axis=1)]
    if by == "crowd" and majority is not None:
        majority = np.asarray(majority)
        return np.where(majority == NO_MAJORITY, "no votes", names[np.clip(majority, 0, None)]).astype(object)
    if by == "flag" and flagged is not None:
        return np.where(np.asarray(flagged, dtype=bool), "flagged", "not flagged").astype(object)
    raise AuditError(f"cannot colour the map by {by!r}; use one of {', '.join(COLOUR_BY)} (crowd needs votes, "
                     "flag an audit)")
