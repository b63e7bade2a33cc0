from . import crm_pipeline_kpi
