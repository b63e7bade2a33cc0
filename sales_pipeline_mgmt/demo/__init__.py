from . import sales_pipeline_demo
