package io.fraudguard.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The kernel reads the registry as Python writes it (contracts/feature-spec.json). */
class FeatureSpecContractTest {
    private static Path golden() {
        return Path.of(System.getProperty("fraudguard.contracts"), "feature-spec.json");
    }

    @Test
    void theGoldenSpecParsesAndEveryDeclarationPlans() throws Exception {
        FeatureSpec spec = FeatureSpec.read(golden());
        assertTrue(spec.version.matches("fs-[0-9a-f]{12}"), spec.version);
        assertEquals(spec.names.size(), spec.features.size());
        assertEquals("card_count_10m", spec.features.get(6).name());
        assertEquals(600_000L, spec.features.get(6).windowMs());
        assertEquals(60_000L, spec.bucketMs.get(3_600_000L));
        assertEquals(30 * 86_400_000L, spec.historyMs);
        new FeatureKernel(spec); // throws on any declaration the kernel cannot evaluate
    }

    @Test
    void amountsConvertToEuroAndRoundToTheCent() throws Exception {
        FeatureSpec spec = FeatureSpec.read(golden());
        assertEquals(12.5, spec.toEur(12.5, "EUR"));
        assertEquals(0.01, spec.toEur(1.0, "JPY")); // 1 / 160 = 0.00625
        assertThrows(IllegalArgumentException.class, () -> spec.toEur(1.0, "XXX"));
    }

    @Test
    void namesOutOfStepWithTheDeclarationsAreRejected() throws Exception {
        String json = Files.readString(golden())
                .replaceFirst("\"txn_amount_eur\",", "\"txn_amount_euro\",");
        assertThrows(IllegalArgumentException.class, () -> FeatureSpec.parse(json));
    }
}
