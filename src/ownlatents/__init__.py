"""ownlatents: the library behind the book re-deriving "Learn from your own latents
and not from tokens: A sample-complexity theory" (Korchinski, Favero, Wyart, 2026).

Modules (one concept each):

- :mod:`ownlatents.rhm`      the Random Hierarchy Model: grammar, sampling, interventions, encodings
- :mod:`ownlatents.theory`   exact population quantities (context vectors, correlations, sample complexities)
- :mod:`ownlatents.sweeps`   sample-complexity sweeps, thresholds P*, exponent fits, result store
- :mod:`ownlatents.presets`  the ``fast`` / ``full`` parameter tables
- :mod:`ownlatents.plots`    the standard figures
"""

__version__ = "0.1.0"
