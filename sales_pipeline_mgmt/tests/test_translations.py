# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import tagged
from odoo.tools.misc import file_open
from odoo.tools.translate import PoFileReader, TranslationModuleReader

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import SalesPipelineCommon

MODULE = "sales_pipeline_mgmt"
# Spelled the same in Spanish: OCA's po-pretty-format (oca-checks-po) leaves
# their msgstr empty, and Odoo shows the source, which is the Spanish text.
SAME_IN_SPANISH = {
    "%(user)s (+%(excess)s)",
    '<span invisible="not pipeline_pause_reason">: </span>',
    "Error",
    "Error (%)",
    "ID",
    "Lead",
    "Total",
}


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestSpanishTranslation(SalesPipelineCommon):
    """Every string of the addon reads in Spanish: the terms Odoo exports for
    the addon (fields, views, menus, data, Python and JS strings) all have a
    translation in i18n/es.po, and a Spanish-speaking user sees them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("es_ES")
        cls.env["ir.module.module"].search(
            [("name", "=", MODULE)]
        )._update_translations(["es_ES"], overwrite=True)
        # the translations were written in SQL: drop what the caches hold
        cls.env.invalidate_all()
        cls.env.registry.clear_cache()
        cls.user_spanish = mail_new_test_user(
            cls.env,
            login="spm_salesman_es",
            name="Sara Vendedora",
            groups="sales_team.group_sale_salesman",
            lang="es_ES",
        )

    def _spanish_env(self):
        """The environment of a request of the Spanish-speaking user: the
        language comes from the user's preferences."""
        user = self.user_spanish
        return self.env(user=user, context=user.with_user(user).context_get())

    def _po_entries(self):
        with file_open(f"{MODULE}/i18n/es.po", "rb") as po_file:
            return list(PoFileReader(po_file))

    def test_every_addon_term_has_a_spanish_translation(self):
        po_values = {entry["src"]: entry["value"] for entry in self._po_entries()}
        reader = TranslationModuleReader(self.env.cr, [MODULE], lang="es_ES")
        terms = {source for module, *_rest, source, _value, _comments in reader}
        self.assertTrue(terms, "Odoo exported no term of the addon")
        missing = sorted(
            term
            for term in terms
            if term not in po_values or not (po_values[term] or term in SAME_IN_SPANISH)
        )
        self.assertFalse(
            missing,
            "%d term(s) of %s have no Spanish translation in i18n/es.po (export "
            "the .pot again and translate them):\n%s"
            % (len(missing), MODULE, "\n".join(missing)),
        )

    def test_es_po_leaves_empty_only_the_terms_spelled_the_same(self):
        empty = {entry["src"] for entry in self._po_entries() if not entry["value"]}
        self.assertFalse(
            empty - SAME_IN_SPANISH,
            "Untranslated entries in es.po:\n%s" % "\n".join(empty - SAME_IN_SPANISH),
        )

    def test_standard_stages_read_in_spanish(self):
        stages = self._spanish_env()["crm.standard.stage"].search(
            [
                (
                    "code",
                    "in",
                    [
                        "awareness",
                        "interest",
                        "consideration",
                        "decision",
                        "purchase",
                    ],
                )
            ]
        )
        self.assertEqual(
            stages.mapped("name"),
            ["Conciencia", "Interés", "Consideración", "Decisión", "Compra"],
        )
        english = stages.with_context(lang="en_US")
        for stage, stage_en in zip(stages, english, strict=True):
            with self.subTest(stage=stage_en.name):
                self.assertTrue(stage.description)
                self.assertNotEqual(stage.description, stage_en.description)

    def test_addon_labels_read_in_spanish(self):
        lead_model = self._spanish_env()["crm.lead"]
        fields_info = lead_model.fields_get(["stage_history_ids", "days_in_stage"])
        self.assertEqual(
            fields_info["stage_history_ids"]["string"], "Historial de etapas"
        )
        self.assertEqual(fields_info["days_in_stage"]["string"], "Días en la etapa")
