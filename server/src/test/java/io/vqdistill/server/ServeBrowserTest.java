package io.vqdistill.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.fake.FakeBackend;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.data.Mnist;
import io.vqdistill.server.CircuitService.Completion;
import io.vqdistill.server.CircuitService.Image;
import io.vqdistill.server.CircuitService.Query;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page in a real browser: a headless Chromium loads it from a server on an ephemeral port,
 * paints a hidden region on the input canvas with real mouse events, and the test checks that the
 * completions appear, that they are the API's answer for exactly that mask, and that the server
 * answered; then it takes a screenshot ({@code target/serve.png}).
 *
 * <p>By default the circuit is the four-stroke mixture of {@link Fixtures} on the fake backend. With
 * {@code -Dvqdistill.serve.circuit=DIR -Dvqdistill.serve.data=DIR} it serves that circuit folder and
 * MNIST folder instead (this is how the README's screenshot is made), and
 * {@code -Dvqdistill.serve.screenshot=PNG} copies the screenshot there.
 */
class ServeBrowserTest {
    @TempDir
    Path work;

    @Test
    void paintingAMaskShowsTheInpaintedImageAndTheTopComponents() throws Exception {
        Fixtures.requireTool(Chromium.find().isPresent(), "Chromium (the browser of the browser test)",
                "apt-get install chromium");
        FakeBackend backend = new FakeBackend();
        String circuitDir = System.getProperty("vqdistill.serve.circuit");
        Circuit circuit = circuitDir == null ? Fixtures.mixture(backend) : CircuitFiles.read(Path.of(circuitDir), backend);
        ImageSet images = circuitDir == null ? Fixtures.testImages()
                : Mnist.load(Path.of(System.getProperty("vqdistill.serve.data", "data/mnist"))).test();
        CircuitService service = new CircuitService(circuit, images, circuitDir == null ? "four strokes (test)" : circuitDir);
        try (circuit;
             CircuitServer server = CircuitServer.start(service, ServerOptions.defaults().at("127.0.0.1", 0));
             Chromium chromium = Chromium.launch(Chromium.find().orElseThrow(), work, 1180, 700)) {
            chromium.navigate(server.url());
            chromium.waitFor("window.vq && window.vq.ready", Duration.ofSeconds(60));
            chromium.waitFor("vq.completed >= 1", Duration.ofSeconds(60));
            assertThat(chromium.evaluate("document.getElementById('image-label').textContent").asText())
                    .startsWith("test image 0");
            int before = chromium.evaluate("vq.completed").asInt();
            long answeredBefore = service.answered();

            // paint the lower part of the image with the default tool, "hide region"
            JsonNode rect = chromium.evaluate("(() => { const r = document.getElementById('input')"
                    + ".getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height}; })()");
            double x0 = rect.path("x").asDouble();
            double y0 = rect.path("y").asDouble();
            double cell = rect.path("w").asDouble() / Fixtures.SIDE;
            for (int row = 15; row <= 25; row += 2) {
                List<double[]> stroke = new ArrayList<>();
                for (int col = 2; col <= 25; col++) {
                    stroke.add(new double[] {x0 + (col + 0.5) * cell, y0 + (row + 0.5) * cell});
                }
                chromium.drag(stroke.toArray(double[][]::new));
            }
            // the update shown is the one for the whole painted mask
            chromium.waitFor("vq.completed > " + before + " && vq.last.hidden === hiddenList().join(',')"
                    + " && document.querySelectorAll('#samples canvas').length === 4", Duration.ofSeconds(120));
            assertThat(chromium.evaluate("vq.lastError").isNull()).as("the page's error").isTrue();
            assertThat(chromium.pageErrors()).isEmpty();

            // the mask the page sent is the painted region: rows 14..26 and nothing above
            JsonNode hiddenJson = chromium.evaluate("hiddenList()");
            int[] hidden = new int[hiddenJson.size()];
            for (int i = 0; i < hidden.length; i++) {
                hidden[i] = hiddenJson.get(i).asInt();
            }
            assertThat(hidden.length).isGreaterThan(200);
            for (int p : hidden) {
                assertThat(p / Fixtures.SIDE).isBetween(14, 26);
            }
            assertThat(chromium.evaluate("document.getElementById('hidden-count').textContent").asText())
                    .startsWith(hidden.length + " of 784 pixels hidden");

            // the inpainted image is on the canvas, and is the API's answer for that mask
            JsonNode pageMean = chromium.evaluate("vq.last.conditional.mean");
            boolean[] observed = new boolean[service.variables()];
            java.util.Arrays.fill(observed, true);
            for (int p : hidden) {
                observed[p] = false;
            }
            Image first = service.testImage(0, "index");
            Completion expected = service.complete(first, observed, EnumSet.of(Query.MEAN), 1, 1);
            for (int p = 0; p < observed.length; p++) {
                assertThat(pageMean.get(p).asDouble()).as("mean of pixel %d", p)
                        .isCloseTo(expected.mean()[p], within(0.006));
            }
            int lit = chromium.evaluate("(() => { const c = document.getElementById('mean');"
                    + " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;"
                    + " for (let i = 0; i < d.length; i += 4) { if (d[i] + d[i + 1] + d[i + 2] > 60) n++; } return n; })()")
                    .asInt();
            assertThat(lit).as("bright screen pixels of the conditional mean").isGreaterThan(100);
            assertThat(chromium.evaluate("document.querySelectorAll('#components li').length").asInt())
                    .isEqualTo(Math.min(6, expectedComponents(circuit)));
            assertThat(chromium.evaluate("document.getElementById('ll').textContent").asText()).endsWith("nats");
            // likelihood, posterior, conditional and marginal at least once each since the painting
            assertThat(service.answered() - answeredBefore).isGreaterThanOrEqualTo(4);

            byte[] png = chromium.screenshot();
            BufferedImage shot = ImageIO.read(new ByteArrayInputStream(png));
            assertThat(shot.getWidth()).isEqualTo(1180);
            Path target = Path.of("target", "serve.png");
            Files.createDirectories(target.getParent());
            Files.write(target, png);
            String copy = System.getProperty("vqdistill.serve.screenshot");
            if (copy != null) {
                Files.write(Path.of(copy), png);
            }
        }
    }

    private static int expectedComponents(Circuit circuit) {
        return circuit instanceof io.vqdistill.circuits.ShallowMixture m ? m.components() : 1;
    }
}
