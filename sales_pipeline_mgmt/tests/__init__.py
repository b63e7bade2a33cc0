from . import test_standard_stage
from . import test_stage_history
from . import test_stage_history_rebuild
from . import test_stage_history_security
from . import test_smoke
from . import test_pipeline_kpis
from . import test_pipeline_kpi_views
from . import test_stage_figures
