# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The analysis gate's options, the counterpart of module_utils/gate.py: ANALYSIS_GATE_SPEC (DOCUMENTATION, with
# the prometheus fragment) and ANALYSIS_SOURCE_SPEC, placed where each module has them: at the top (SOURCE,
# analysis_check), under analysis (ANALYSIS, router_release) or under pre_promotion_analysis and
# post_promotion_analysis (PROMOTION, bluegreen_promote). ansible-test reads fragments as plain string literals,
# so the template-source options are written out in each place; tests/unit/test_gate.py checks the copies say
# the same.


class ModuleDocFragment(object):

    # How an analysis runs (module_utils/gate.py ANALYSIS_GATE_SPEC, beside the prometheus fragment)
    DOCUMENTATION = r"""
options:
  namespace:
    description:
      - Namespace of the AnalysisTemplates read from the cluster, and of the secrets named by
        C(valueFrom.secretKeyRef) arguments.
      - The alias C(analysis_namespace) (router_release's former name) is deprecated.
    type: str
    default: default
    aliases: [analysis_namespace]
  on_empty:
    description:
      - What a measurement with no data (an empty vector, only NaN, or a C(null) answer) that the conditions
        would pass becomes.
      - C(fail) makes it C(Failed) with a message that says so. C(argo) keeps the verdict of Argo Rollouts,
        where for example C(len(result) == 0 || result[0] > 0.9) passes on no data.
    type: str
    choices: [fail, argo]
    default: fail
  max_duration:
    description:
      - End an analysis after this long (C(30s), C(10m), C(1h)), like a rollout step ending a background analysis.
      - It is a wall-clock limit from the start of the run. Each measurement gets no more than the time left
        (and never more than its provider's timeout); a measurement due in the last quarter second is not started.
      - Required when a metric has an C(interval) but no C(count), which otherwise runs forever.
      - On expiry, metrics still running become C(Successful) and the run message says C(Run Terminated),
        unless a metric had already failed.
      - A metric whose last measurement is an C(Error) when the time is up (a query cut short by the limit, or an
        error whose 10 s retry did not fit) ends C(Error) with the message C(analysis exceeded max_duration 5s (wall
        clock)), and so does the run; Argo Rollouts would call it C(Successful).
      - The alias C(analysis_max_duration) (router_release's former name) is deprecated.
    type: str
    aliases: [analysis_max_duration]
notes:
  - "Metric providers: C(prometheus) and C(web) (an HTTP GET, POST or PUT whose JSON answer, or the part its
    C(jsonPath) selects, is the C(result)); another provider is refused before anything is measured."
"""

    # Where the templates come from, at the top of the module's options (analysis_check)
    SOURCE = r"""
options:
  template:
    description:
      - An AnalysisTemplate (or ClusterAnalysisTemplate) object, or its C(spec), or a list of them merged as
        Argo Rollouts merges several templates named by one step.
      - Mark the YAML C(!unsafe) so Ansible leaves C({{args.x}}) for the module to substitute.
      - Mutually exclusive with O(template_file) and O(template_name).
    type: raw
  template_file:
    description:
      - A YAML file holding AnalysisTemplate and ClusterAnalysisTemplate documents, read by the module and never
        templated by Ansible.
      - All documents are used unless O(template_name) picks some; C(spec.templates) references are
        resolved from the same file.
    type: path
  template_name:
    description:
      - Names of the templates to use. With O(template_file) they are picked from the file, otherwise they are
        read from the cluster (AnalysisTemplate in O(namespace), or ClusterAnalysisTemplate with O(cluster_scope)).
    type: list
    elements: str
  cluster_scope:
    description:
      - Read ClusterAnalysisTemplates instead of AnalysisTemplates.
    type: bool
    default: false
  args:
    description:
      - Values for the templates' C(spec.args), name to value. They override the templates' defaults.
      - Names the templates do not declare are ignored, as in Argo Rollouts, and each is named in a warning.
    type: dict
    default: {}
"""

    # router_release: the templates of every analysis step
    ANALYSIS = r"""
options:
  analysis:
    description:
      - The AnalysisTemplates every analysis step runs; a step's own C(templates) pick names among them.
      - Give one of O(analysis.template), O(analysis.template_file) or O(analysis.template_name).
    type: dict
    suboptions:
      template:
        description:
          - An AnalysisTemplate (or ClusterAnalysisTemplate) object, or its C(spec), or a list of them merged as
            Argo Rollouts merges several templates named by one step.
          - Mark the YAML C(!unsafe) so Ansible leaves C({{args.x}}) for the module to substitute.
          - Mutually exclusive with O(analysis.template_file) and O(analysis.template_name).
        type: raw
      template_file:
        description:
          - A YAML file holding AnalysisTemplate and ClusterAnalysisTemplate documents, read by the module and never
            templated by Ansible.
          - All documents are used unless O(analysis.template_name) picks some; C(spec.templates) references are
            resolved from the same file.
        type: path
      template_name:
        description:
          - Names of the templates to use. With O(analysis.template_file) they are picked from the file, otherwise they are
            read from the cluster (AnalysisTemplate in O(namespace), or ClusterAnalysisTemplate with O(analysis.cluster_scope)).
        type: list
        elements: str
      cluster_scope:
        description:
          - Read ClusterAnalysisTemplates instead of AnalysisTemplates.
        type: bool
        default: false
      args:
        description:
          - Values for the templates' C(spec.args), name to value. They override the templates' defaults.
          - Names the templates do not declare are ignored, as in Argo Rollouts, and each is named in a warning.
        type: dict
        default: {}
"""

    # bluegreen_promote: the analyses before and after the switch
    PROMOTION = r"""
options:
  pre_promotion_analysis:
    description:
      - An analysis to pass before promoting, in addition to the rollout's own C(prePromotionAnalysis).
      - Give one of O(pre_promotion_analysis.template), O(pre_promotion_analysis.template_file) or
        O(pre_promotion_analysis.template_name).
    type: dict
    suboptions:
      template:
        description:
          - An AnalysisTemplate (or ClusterAnalysisTemplate) object, or its C(spec), or a list of them merged as
            Argo Rollouts merges several templates named by one step.
          - Mark the YAML C(!unsafe) so Ansible leaves C({{args.x}}) for the module to substitute.
          - Mutually exclusive with O(pre_promotion_analysis.template_file) and O(pre_promotion_analysis.template_name).
        type: raw
      template_file:
        description:
          - A YAML file holding AnalysisTemplate and ClusterAnalysisTemplate documents, read by the module and never
            templated by Ansible.
          - All documents are used unless O(pre_promotion_analysis.template_name) picks some; C(spec.templates) references are
            resolved from the same file.
        type: path
      template_name:
        description:
          - Names of the templates to use. With O(pre_promotion_analysis.template_file) they are picked from the file, otherwise they are
            read from the cluster (AnalysisTemplate in O(namespace), or ClusterAnalysisTemplate with O(pre_promotion_analysis.cluster_scope)).
        type: list
        elements: str
      cluster_scope:
        description:
          - Read ClusterAnalysisTemplates instead of AnalysisTemplates.
        type: bool
        default: false
      args:
        description:
          - Values for the templates' C(spec.args), name to value. They override the templates' defaults.
          - Names the templates do not declare are ignored, as in Argo Rollouts, and each is named in a warning.
        type: dict
        default: {}
  post_promotion_analysis:
    description:
      - An analysis to pass after the active Service switched, in addition to the rollout's own
        C(postPromotionAnalysis).
      - Give one of O(post_promotion_analysis.template), O(post_promotion_analysis.template_file) or
        O(post_promotion_analysis.template_name).
    type: dict
    suboptions:
      template:
        description:
          - An AnalysisTemplate (or ClusterAnalysisTemplate) object, or its C(spec), or a list of them merged as
            Argo Rollouts merges several templates named by one step.
          - Mark the YAML C(!unsafe) so Ansible leaves C({{args.x}}) for the module to substitute.
          - Mutually exclusive with O(post_promotion_analysis.template_file) and O(post_promotion_analysis.template_name).
        type: raw
      template_file:
        description:
          - A YAML file holding AnalysisTemplate and ClusterAnalysisTemplate documents, read by the module and never
            templated by Ansible.
          - All documents are used unless O(post_promotion_analysis.template_name) picks some; C(spec.templates) references are
            resolved from the same file.
        type: path
      template_name:
        description:
          - Names of the templates to use. With O(post_promotion_analysis.template_file) they are picked from the file, otherwise they are
            read from the cluster (AnalysisTemplate in O(namespace), or ClusterAnalysisTemplate with O(post_promotion_analysis.cluster_scope)).
        type: list
        elements: str
      cluster_scope:
        description:
          - Read ClusterAnalysisTemplates instead of AnalysisTemplates.
        type: bool
        default: false
      args:
        description:
          - Values for the templates' C(spec.args), name to value. They override the templates' defaults.
          - Names the templates do not declare are ignored, as in Argo Rollouts, and each is named in a warning.
        type: dict
        default: {}
"""
