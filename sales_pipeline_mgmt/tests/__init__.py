from . import test_standard_stage
from . import test_stage_history
from . import test_stage_history_rebuild
from . import test_stage_history_security
from . import test_smoke
