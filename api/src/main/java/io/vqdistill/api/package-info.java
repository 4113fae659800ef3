/**
 * The vocabulary every vqdistill module speaks: the backend-neutral {@link io.vqdistill.api.Tensor},
 * the {@link io.vqdistill.api.Backend} that creates tensors, the selection rule of
 * {@link io.vqdistill.api.BackendSelector}, and the one unchecked exception family rooted at
 * {@link io.vqdistill.api.VqdistillException}.
 */
package io.vqdistill.api;
