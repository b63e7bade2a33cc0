from . import crm_lead_stage_analysis
from . import crm_lead_funnel
from . import crm_pipeline_forecast_accuracy
from . import crm_lead_stage_analysis_summary
