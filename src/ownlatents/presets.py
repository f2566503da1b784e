"""The two parameter tables of the book: ``fast`` and ``full``.

``fast`` is the default: every chapter executes in a few minutes on 2 CPU cores
(tests, CI and the book build use it).  ``full`` is the paper's grids, meant for a
GPU or a cluster; its runs write the JSON files under ``results/``.

Select one with the environment variable ``OWNLATENTS_PRESET`` (``fast`` or
``full``) or by passing ``name=`` explicitly::

    from ownlatents.presets import get_preset
    cfg = get_preset("ilc")            # fast unless OWNLATENTS_PRESET=full
    cfg = get_preset("ilc", "full")

Each chapter owns one section of the table (a plain dict of parameters).
"""

from __future__ import annotations

import copy
import os

PRESET_ENV = "OWNLATENTS_PRESET"
PRESET_NAMES = ("fast", "full")

PRESETS: dict[str, dict[str, dict]] = {
    "fast": {
        # Chapter 4: the SLC network (P grids in units of v m^3; model options in "options"; see ownlatents.slc).
        "slc": {
            # P/(v m^3) in {1, 10}: below and above the transition measured in results/slc_main_medium.json
            "main": dict(v=8, s=3, L=3, m=[3, 4], lo=1.0, hi=10.0, per_decade=1, seeds=[0], n_val=500, n_test=500,
                         options=dict(d_h2=64, batch_size=64, epochs=10)),
            "depth": dict(v=8, s=3, L=[3, 4], m=3, P=[2160], seeds=[0], n_val=500, n_test=500,
                          options=dict(d_h2=64, batch_size=64, epochs=10)),
            "ablation": dict(v=8, s=3, L=3, m=3, P=[2160], seeds=[0], n_val=500, n_test=500,
                             options=dict(d_h2=64, batch_size=64, epochs=10),
                             variants=[
                dict(ema=True, stopgrad_between_layers=False, stopgrad_pred_to_clust=False),
                dict(ema=True, stopgrad_between_layers=True, stopgrad_pred_to_clust=False),
                dict(ema=False, stopgrad_between_layers=True, stopgrad_pred_to_clust=False),
                dict(ema=False, stopgrad_between_layers=True, stopgrad_pred_to_clust=True),
            ]),
            # a medium CPU run (~30 min on one core), committed as results/slc_medium_main.json
            "medium_main": dict(v=8, s=3, L=3, m=[3, 4, 5, 6], lo=0.1, hi=10.0, per_decade=2, seeds=[0],
                                n_val=1000, n_test=1000, options=dict(d_h2=64, batch_size=64, epochs=10)),
        },
        # Chapter 3: Iterative Latent Clustering (P grids in units of v m^3; see ownlatents.ilc).
        "ilc": {
            "example": dict(v=8, m=4, s=3, L=3, grammar_seed=0, sample_seed=1, kmeans_seed=0, P=20_000, n_test=5_000),
            # three seeds (the spec's fast table says two): with prefix sampling a sweep takes ~10 s
            "main": dict(v=8, s=3, L=4, m=[4, 6, 8, 12], lo=0.1, hi=100.0, per_decade=3, seeds=[0, 1, 2], n_test=5_000),
            "depth": dict(v=8, s=3, L=[3, 4, 5], m=6, lo=0.1, hi=100.0, per_decade=3, seeds=[0, 1, 2], n_test=5_000,
                          variants=[{}, {"kmeans_weighted": True}]),
            "variants": dict(
                v=8, s=3, L=4, m=6, lo=0.1, hi=100.0, per_decade=3, seeds=[0, 1, 2], n_test=5_000,
                variants=[{}, {"kmeans_weighted": True}, {"pool_blocks": True}, {"context": "all"},
                          {"context": "all", "pool_blocks": True}, {"oracle": True}, {"unseen": "guess"}],
            ),
            # beyond the paper: P* against the vocabulary size v at fixed m (the theorem's factor v)
            "vocab": dict(v=[8, 12, 16, 24], s=3, L=4, m=4, lo=0.1, hi=100.0, per_decade=3, seeds=[0, 1, 2],
                          n_test=5_000),
            "bench": dict(v=8, m=12, s=3, L=4, P=100_000, seed=0),
        },
        # Chapter 5: data2vec and the masked-token (MLM) baseline (see ownlatents.data2vec).  A toy
        # encoder that fits the CI budget; it is far below the size where the paper's effect shows.
        "data2vec": {
            "offline": dict(
                objectives=["data2vec", "mlm"], regime="offline", v=16, s=2, L=4, m=[3, 4], lo=0.3, hi=30.0,
                per_decade=1, seeds=[0], d_model=32, n_heads=2, n_layers=2, d_ff=64, dropout=0.1, top_k=2,
                ema_decay=0.99, beta=4.0, steps=150, batch_size=64, lr=1e-3, mask_prob=0.15, n_val=256,
                n_test=1024, probe_steps=300, probe_kinds=["linear", "mlp"], cl_levels=[1, 2, 3], n_pairs=256,
                target_levels=[1, 2, 3], control=True,
            ),
        },
        # Chapter 1: the Random Hierarchy Model.
        "rhm": {
            "example": dict(v=4, m=2, s=2, L=3, seed=1),
            "check": dict(v=8, m=3, s=2, L=4, seed=0, P=200_000),
        },
        # Chapter 2: the theory (exact message passing; all CPU-cheap).
        "theory": {
            "lemma1_grammars": [(8, 4, 2, 4, 0), (16, 8, 2, 4, 1), (32, 16, 2, 6, 2), (8, 6, 3, 3, 3), (16, 32, 3, 3, 4)],
            "brute": [(3, 2, 2, 3, 0), (4, 2, 2, 3, 1), (4, 3, 3, 2, 2)],
            "empirical": dict(v=8, m=3, s=2, L=3, seed=0, P=400_000, sample_seed=11),
            "decay": dict(v=16, m_grid=[4, 6, 8], s=2, L=6, seeds=[0, 1, 2]),
            "signal": dict(
                s2=dict(v_grid=[8, 16, 32], m_grid=[2, 4, 8, 16], L=3),
                s3=dict(v_grid=[8, 16], m_grid=[4, 8, 16, 32], L=3),
                seeds=[0, 1, 2, 3],
            ),
            "snr": dict(v=16, m_grid=[3, 4, 6, 8], s=2, L=3, seeds=[0, 1], ratio_lo=0.1, ratio_hi=30.0, n_points=8, n_fit=4),
            "levels": dict(v=16, m=4, s=2, L=6, seeds=[0, 1, 2]),
            "complexity": dict(v=32, m=8, L_grid=[2, 3, 4, 5, 6, 7, 8], delta=0.1),
        },
    },
    "full": {
        # Chapter 4: the paper's SLC grids (Figs. 3 R, 9, 10, 12), paper hyper-parameters (SLCConfig defaults).
        "slc": {
            "main": dict(v=10, s=3, L=4, m=[7, 9, 11, 13, 15], lo=0.01, hi=100.0, per_decade=4, seeds=[0, 1, 2],
                         n_val=2000, n_test=2000, options=dict(epochs=30)),
            "depth": dict(v=16, s=3, L=[3, 4, 5, 6, 7], m=8, lo=0.01, hi=100.0, per_decade=4, seeds=[0, 1, 2],
                          n_val=2000, n_test=1000, options=dict(epochs=30)),
            "ablation": dict(v=10, s=3, L=4, m=10, lo=0.1, hi=10.0, per_decade=4, seeds=[0, 1, 2], n_val=2000,
                             n_test=2000, options=dict(epochs=30),
                             variants=[
                dict(ema=True, stopgrad_between_layers=False, stopgrad_pred_to_clust=False),
                dict(ema=True, stopgrad_between_layers=True, stopgrad_pred_to_clust=False),
                dict(ema=False, stopgrad_between_layers=True, stopgrad_pred_to_clust=False),
                dict(ema=False, stopgrad_between_layers=True, stopgrad_pred_to_clust=True),
            ]),
            "dynamics": dict(v=16, s=3, L=7, m=8, P=[9797], seeds=[0], n_val=2000, n_test=2000, options=dict(epochs=30)),
            # a medium CPU run (~30 min on one core), committed as results/slc_medium_main.json
            "medium_main": dict(v=8, s=3, L=3, m=[3, 4, 5, 6], lo=0.1, hi=10.0, per_decade=2, seeds=[0],
                                n_val=1000, n_test=1000, options=dict(d_h2=64, batch_size=64, epochs=10)),
        },
        # Chapter 3: the paper's grid (Fig. 3 left); P/(v m^3) in [1e-2, 1e2], 4 points/decade (the
        # depth sweep extends to 10**2.5: the top level of deep trees crosses late, see the chapter).
        "ilc": {
            "example": dict(v=8, m=4, s=3, L=3, grammar_seed=0, sample_seed=1, kmeans_seed=0, P=20_000, n_test=5_000),
            "main": dict(v=8, s=3, L=5, m=[6, 8, 12, 16, 24, 32], lo=0.01, hi=100.0, per_decade=4, seeds=[0, 1, 2],
                         n_test=10_000),
            # the same grid with k-means weighted by tuple counts (the spec's `kmeans_weighted` option)
            "weighted": dict(v=8, s=3, L=5, m=[6, 8, 12, 16, 24, 32], lo=0.01, hi=100.0, per_decade=4,
                             seeds=[0, 1, 2], n_test=10_000, variants=[{"kmeans_weighted": True}]),
            "depth": dict(v=8, s=3, L=[3, 4, 5, 6, 7], m=8, lo=0.01, hi=10**2.5, per_decade=4, seeds=[0, 1, 2],
                          n_test=10_000, variants=[{}, {"kmeans_weighted": True}]),
            "variants": dict(
                v=8, s=3, L=5, m=8, lo=0.01, hi=100.0, per_decade=4, seeds=[0, 1, 2], n_test=10_000,
                variants=[{}, {"kmeans_weighted": True}, {"pool_blocks": True}, {"context": "all"},
                          {"context": "all", "pool_blocks": True}, {"oracle": True}, {"unseen": "guess"}],
            ),
            "vocab": dict(v=[8, 12, 16, 24, 32], s=3, L=5, m=8, lo=0.01, hi=100.0, per_decade=4, seeds=[0, 1, 2],
                          n_test=10_000),
            "bench": dict(v=8, m=32, s=3, L=5, P=1_000_000, seed=0),
        },
        # Chapter 5: the paper's encoder and optimiser (Table 1), offline and online; GPU only.
        # offline steps: the spec's default 262144 (no early stopping implemented; see the chapter).
        "data2vec": {
            "offline": dict(
                objectives=["data2vec", "mlm"], regime="offline", v=16, s=2, L=4, m=[3, 4, 5, 6, 7], lo=0.1,
                hi=100.0, per_decade=4, seeds=[0, 1, 2], d_model=2048, n_heads=32, n_layers=8, d_ff=8192,
                dropout=0.1, top_k=4, ema_decay=0.99, beta=4.0, steps=262_144, batch_size=512, lr=1e-4,
                mask_prob=0.15, n_val=4096, n_test=4096, probe_steps=2000, probe_kinds=["linear", "mlp"],
                cl_levels=[1, 2, 3, 4], n_pairs=2048, target_levels=[1, 2, 3], control=True,
            ),
            "online": dict(
                objectives=["data2vec", "mlm"], regime="online", v=16, s=2, L=4, m=[3, 4, 5, 6, 7], lo=10.0,
                hi=10_000.0, per_decade=4, seeds=[0, 1, 2], d_model=2048, n_heads=32, n_layers=8, d_ff=8192,
                dropout=0.1, top_k=4, ema_decay=0.99, beta=4.0, steps=1, batch_size=512, lr=1e-4,
                mask_prob=0.15, n_val=4096, n_test=4096, probe_steps=2000, probe_kinds=["linear", "mlp"],
                cl_levels=[1, 2, 3, 4], n_pairs=2048, target_levels=[1, 2, 3], control=True,
            ),
        },
        "rhm": {
            "example": dict(v=4, m=2, s=2, L=3, seed=1),
            "check": dict(v=16, m=4, s=2, L=4, seed=0, P=2_000_000),
        },
        # Chapter 2: the theory (exact message passing; all CPU-cheap).
        "theory": {
            "lemma1_grammars": [(8, 4, 2, 4, 0), (16, 8, 2, 4, 1), (32, 16, 2, 6, 2), (8, 6, 3, 3, 3), (16, 32, 3, 3, 4)],
            "brute": [(3, 2, 2, 3, 0), (4, 2, 2, 3, 1), (4, 3, 3, 2, 2)],
            "empirical": dict(v=8, m=3, s=2, L=3, seed=0, P=400_000, sample_seed=11),
            "decay": dict(v=16, m_grid=[4, 6, 8, 12], s=2, L=6, seeds=list(range(8))),
            "signal": dict(
                s2=dict(v_grid=[8, 16, 32, 64], m_grid=[2, 4, 8, 16, 32], L=3),
                s3=dict(v_grid=[8, 16, 32], m_grid=[4, 8, 16, 32, 64], L=3),
                seeds=list(range(16)),
            ),
            "snr": dict(v=16, m_grid=[3, 4, 6, 8], s=2, L=3, seeds=[0, 1, 2, 3, 4, 5, 6, 7], ratio_lo=0.1, ratio_hi=30.0, n_points=8, n_fit=4),
            "levels": dict(v=16, m=4, s=2, L=6, seeds=[0, 1, 2]),
            "complexity": dict(v=32, m=8, L_grid=[2, 3, 4, 5, 6, 7, 8], delta=0.1),
        },
    },
}


def preset_name(name: str | None = None) -> str:
    """The preset in force: ``name`` if given, else ``$OWNLATENTS_PRESET``, else ``"fast"``."""
    chosen = name if name is not None else os.environ.get(PRESET_ENV, "fast")
    chosen = chosen.strip().lower()
    if chosen not in PRESET_NAMES:
        raise ValueError(
            f"preset must be one of {PRESET_NAMES} (argument or ${PRESET_ENV}), got {chosen!r}"
        )
    return chosen


def get_preset(section: str, name: str | None = None) -> dict:
    """A deep copy of one section (e.g. ``"ilc"``) of the chosen preset."""
    table = PRESETS[preset_name(name)]
    if section not in table:
        raise ValueError(f"section must be one of {sorted(table)}, got {section!r}")
    return copy.deepcopy(table[section])
