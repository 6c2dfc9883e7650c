"""Training: the multi-party synthesizer, one model version per partition."""

import dagster as dg

from pipelines.defs.training.assets import dagan_model

defs = dg.Definitions(assets=[dagan_model])
