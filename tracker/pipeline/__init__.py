"""The signal pipeline: thigh orientation, reps, exercise, sets and wobble (docs/pipeline.md).

>>> p = Pipeline(PipelineConfig())
>>> events = p.feed(chunk)      # any chunk size; t_s may have gaps
>>> events += p.finish()        # end of session: closes an open set
"""

from tracker.pipeline.config import PipelineConfig
from tracker.pipeline.core import Calibration, Pipeline

__all__ = ["Calibration", "Pipeline", "PipelineConfig"]
