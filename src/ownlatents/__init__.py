"""ownlatents: the library behind the book re-deriving "Learn from your own latents
and not from tokens: A sample-complexity theory" (Korchinski, Favero, Wyart, 2026).

Modules (one concept each):

- :mod:`ownlatents.rhm`      the Random Hierarchy Model: grammar, sampling, interventions, encodings
- :mod:`ownlatents.theory`   exact population quantities (context vectors, correlations, sample complexities)
- :mod:`ownlatents.ilc`      Iterative Latent Clustering (the idealised algorithm of the theorem)
- :mod:`ownlatents.slc`      the Stacked Latent Clustering network (predictor-clusterer modules, EMA teacher, UPGrad)
- :mod:`ownlatents.data2vec` data2vec on the RHM (student, EMA teacher, top-K targets)
- :mod:`ownlatents.baselines` the masked-token (MLM) baseline on the same encoder
- :mod:`ownlatents.probes`   label-matched accuracy, probes on frozen features, synonym clustering score
- :mod:`ownlatents.sweeps`   sample-complexity sweeps, thresholds P*, exponent fits, result store
- :mod:`ownlatents.presets`  the ``fast`` / ``full`` parameter tables
- :mod:`ownlatents.plots`    the standard figures
- :mod:`ownlatents.validation` argument checks (clear ``ValueError`` messages)
"""

__version__ = "0.1.0"
