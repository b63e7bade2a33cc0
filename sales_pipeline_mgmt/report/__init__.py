from . import crm_lead_stage_analysis
from . import crm_lead_funnel
