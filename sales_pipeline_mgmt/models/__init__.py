from . import crm_pipeline_api_mixin
from . import crm_pipeline_health_mixin
from . import crm_pipeline_setting_mixin
from . import crm_stage_figures_mixin
from . import crm_standard_stage
from . import crm_stage
from . import crm_stage_pipeline_health
from . import crm_stage_forecast
from . import crm_stage_health_score
from . import crm_lead_stage_history
from . import crm_lead_deal_history
from . import crm_lead_forecast_stat

# crm.lead, one file per feature. crm_lead comes first: its class is the one
# that sees crm.lead as crm defines it (tests and the benchmark call
# super(CrmLead, leads) to measure crm alone). crm_lead_stage_move comes
# after the features that react to a move (KPIs, forecast, pipeline health,
# last contact): its _on_stage_moved wraps their reactions. The files after
# it work on what a move saved: the stays' lead values, the deal history and
# the health score.
from . import crm_lead
from . import crm_lead_kpi
from . import crm_lead_pipeline_dashboard
from . import crm_lead_forecast
from . import crm_lead_pipeline_health
from . import crm_lead_last_contact
from . import crm_lead_stage_move
from . import crm_lead_stage_analysis
from . import crm_lead_deal_tracking

# after the deal history: its write scores the leads once their new history
# row (amount decreases) is written
from . import crm_lead_health_score
from . import crm_lead_pipeline_changes
from . import crm_team
from . import crm_team_pipeline_health
from . import digest_digest
from . import digest_digest_health_score
from . import crm_pipeline_snapshot
from . import mail_activity
from . import mail_message
from . import ir_cron_progress
from . import res_company
from . import res_company_pipeline_health
from . import res_company_health_score
from . import res_config_settings
from . import ir_config_parameter
from . import res_config_settings_health_score
from . import res_config_settings_deal_history
