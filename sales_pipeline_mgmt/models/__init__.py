from . import crm_standard_stage
from . import crm_stage
from . import crm_lead_stage_history
from . import crm_lead
from . import crm_team
from . import sales_pipeline_demo
from . import digest_digest
