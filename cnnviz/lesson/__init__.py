"""The guided lesson, UI-free (no Streamlit, no TensorFlow).

- steps: the lesson's steps in order, their prose and what to try on which page
- questions: a question for each step, drawn from a seed (`question`, `question_set`, `new_seed`)
- answers: judging what a student typed (`check`, `parse_answer`, `AnswerError`)
- reading: what a typed answer says as a number (decimal commas, 1 1/3, 20 × 20, 6.25%, 4^-2)
- question_types: what a question is made of, how its numbers are written, and the precision
  every number question is judged to (whole numbers exactly, decimals to 3 significant digits)
- numbers_and_convolution, layers, networks: the question makers of steps 1-2, 3-5 and 6-8;
  their answers come from the same core functions the pages use (conv_arithmetic.output_size,
  kernels.convolve, pooling.pool2d, activations, ...), and the tests check them against Keras.
"""
