# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's own judges, as pure functions (standard library only):

- ``sprt``: Wald's sequential probability ratio test of an error rate against the SLO's error budget;
- ``mannwhitney``: the two-sided Mann-Whitney U test (tie correction, normal approximation with continuity
  correction, as ``scipy.stats.mannwhitneyu(method="asymptotic")``);
- ``score``: Kayenta's NetflixACAJudge shape - each metric classified Pass / High / Low / NoData, a
  group-weighted score from 0 to 100, critical metrics, Pass / Marginal / Fail thresholds.

The providers ``analysis/providers/sequential.py`` and ``compare.py`` measure with them; they never decide
a phase (the template's conditions do)."""
